import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.js';

/**
 * bgprobe loads a few of undici's files by path (src/api/dispatcher.ts, and its SOCKS5 client in
 * src/egress/socks-stages.ts) and leaves one out of
 * its bundles by path (scripts/bundle.ts). An undici update that moves or stops exporting them
 * would make bgprobe fall back to the slow index, or bundle the HTTP/2 client again, silently:
 * these tests make it fail here instead.
 */
const SOURCES = [join('src', 'api', 'dispatcher.ts'), join('src', 'egress', 'socks-stages.ts')].map((file) => readFileSync(join(ROOT, file), 'utf8')).join('\n');
const PATHS = [...SOURCES.matchAll(/import\('(undici\/[^']+)'\)/g)].map((m) => m[1] as string);

test("every undici file bgprobe loads by path is still there, exported, and the very class the index exports", async () => {
  assert.ok(PATHS.length >= 5 && PATHS.includes('undici/lib/core/socks5-client.js'), `found ${PATHS.join(', ')}`);
  const index = (await import('undici')) as unknown as Record<string, { prototype: Record<string, unknown> } & object>;
  const sameAs: Record<string, (loaded: unknown) => boolean> = {
    'undici/lib/dispatcher/agent.js': (m) => m === index['Agent'],
    'undici/lib/dispatcher/proxy-agent.js': (m) => m === index['ProxyAgent'],
    'undici/lib/dispatcher/dispatcher.js': (m) => m === index['Dispatcher'],
    'undici/lib/api/api-request.js': (m) => m === index['Dispatcher']?.prototype['request'],
    'undici/lib/api/api-connect.js': (m) => m === index['Dispatcher']?.prototype['connect'],
    // No index export to compare with: the class socks-stages.ts drives must still be there.
    'undici/lib/core/socks5-client.js': (m) => typeof (m as { Socks5Client?: unknown }).Socks5Client === 'function',
  };
  for (const path of PATHS) {
    // ERR_MODULE_NOT_FOUND or ERR_PACKAGE_PATH_NOT_EXPORTED here means the update moved it.
    const loaded = ((await import(path)) as { default: unknown }).default;
    assert.ok(loaded, path);
    const check = sameAs[path];
    if (check) assert.ok(check(loaded), `${path} is no longer what undici's index exports under that name`);
  }
});

test("the HTTP/2 client the bundles leave out is still undici's lib/dispatcher/client-h2.js, and the build did leave it out", () => {
  assert.ok(existsSync(join(ROOT, 'node_modules', 'undici', 'lib', 'dispatcher', 'client-h2.js')), 'undici moved its HTTP/2 client: update the filter in scripts/bundle.ts');
  const program = readFileSync(join(ROOT, 'build', 'bgprobe-app.cjs'), 'utf8');
  assert.ok(program.includes("this build leaves out undici\\'s HTTP/2 client") || program.includes("this build leaves out undici's HTTP/2 client"), 'the stand-in replaced it');
  assert.ok(!program.includes('HTTP2_HEADER_AUTHORITY'), 'no trace of the HTTP/2 client itself');
});

test('package.json keeps undici to the patch releases of the version the tests ran on', () => {
  const range = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['undici'] ?? '';
  const installed = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'undici', 'package.json'), 'utf8')) as { version: string }).version;
  const match = /^~(\d+)\.(\d+)\.(\d+)$/.exec(range);
  assert.ok(match, `undici's range ${JSON.stringify(range)} must be ~MAJOR.MINOR.PATCH: a new minor may move the files loaded by path`);
  assert.equal(installed.split('.').slice(0, 2).join('.'), `${match[1]}.${match[2]}`, `installed undici ${installed} is outside ${range}`);
});
