import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { bundle } from '../scripts/bundle.js';
import { apiCa, apiEnv, authorityOf, bgprobe, httpsEmulatorFor, stage, verdicts, type CheckJson } from './egress-fixtures.js';
import { BIN, runNodeScript, tempDir, TEST_KEY } from './helpers.js';
import { startSocksProxy } from './socks-server.js';

const RUN = ['run', '--poll-interval', '0.05', '--output', 'report.md', '--prompt', 'ping'];

async function check(t: TestContext, args: string[], env: Record<string, string>): Promise<{ code: number; json: CheckJson }> {
  const result = await bgprobe(t, ['check', '--json', ...args], env);
  assert.equal(result.stderr, '', 'check --json writes nothing to stderr (no ExperimentalWarning either)');
  return { code: result.code, json: JSON.parse(result.stdout) as CheckJson };
}

test('SOCKS5: run and check through a proxy that allows the host; socks5h:// and socks:// too; the host name goes to the proxy', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const socks = await startSocksProxy(t);
  const run = await bgprobe(t, [...RUN, '--proxy', `socks5://127.0.0.1:${socks.port}`], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY }));
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /Warning/);
  assert.deepEqual(socks.connects.map((c) => c.target), [authorityOf(emulator)], 'one connection for the whole run');
  assert.match(readFileSync(join(run.cwd, 'report.md'), 'utf8'), /\| Proxy \| through socks5:\/\/127\.0\.0\.1:\d+ \(--proxy\) \|/);

  const { code, json } = await check(t, ['--proxy', `socks5h://127.0.0.1:${socks.port}`], apiEnv(emulator, { OPENAI_BASE_URL: `https://localhost:${emulator.port}/v1` }));
  assert.equal(code, 0, JSON.stringify(json.stages, null, 1));
  assert.deepEqual(json.stages.map((s) => [s.name, s.status]), [['dns', 'ok'], ['tcp', 'ok'], ['socks_auth', 'ok'], ['socks_connect', 'ok'], ['tls', 'ok']]);
  assert.equal(stage(json, 'socks_auth').detail, 'the SOCKS5 proxy asked for no authentication');
  assert.equal(socks.connects.at(-1)?.target, `localhost:${emulator.port}`, 'socks5h: the name, not an address, is sent to the proxy');

  const viaAll = await bgprobe(t, [...RUN], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, ALL_PROXY: `socks://127.0.0.1:${socks.port}` }));
  assert.equal(viaAll.code, 0, viaAll.stderr);
  assert.match(readFileSync(join(viaAll.cwd, 'report.md'), 'utf8'), /through socks:\/\/127\.0\.0\.1:\d+ \(ALL_PROXY\)/);
});

test('SOCKS5: a ruleset denial (reply 2) is "blocked" in check and the same words end a run, without retries', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const socks = await startSocksProxy(t, { reply: 2 });
  const env = apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, ALL_PROXY: `socks5://127.0.0.1:${socks.port}` });
  const { code, json } = await check(t, [], env);
  assert.equal(code, 1);
  const connect = stage(json, 'socks_connect');
  assert.equal(connect.status, 'failed');
  assert.match(connect.detail, /refused to connect to 127\.0\.0\.1:\d+: reply 2, connection not allowed by ruleset/);
  assert.match(connect.hint ?? '', /ruleset must allow 127\.0\.0\.1:\d+/);
  assert.deepEqual(verdicts(json), { create: 'blocked', retrieve: 'blocked', cancel: 'blocked' });

  const before = socks.connects.length;
  const run = await bgprobe(t, RUN, env);
  assert.equal(run.code, 1);
  assert.ok(run.stderr.includes(connect.detail), `run says what check says: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /Retry|may have been created/);
  assert.equal(socks.connects.length - before, 1);
  assert.equal(emulator.requests.length, 0);
});

test('SOCKS5 authentication: accepted, missing and rejected credentials, each named; the password never shown', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const password = 'Socks-Secret-42';
  const socks = await startSocksProxy(t, { credentials: { user: 'probe', password } });
  const good = await check(t, ['--proxy', `socks5://probe:${password}@127.0.0.1:${socks.port}`], apiEnv(emulator));
  assert.equal(good.code, 0);
  assert.match(stage(good.json, 'socks_auth').detail, /asked for username\/password and accepted those of probe/);
  assert.equal(socks.connects.at(-1)?.user, 'probe');
  assert.match(good.json.proxy, /socks5:\/\/probe:\*\*\*@127\.0\.0\.1/);

  const missing = await check(t, ['--proxy', `socks5://127.0.0.1:${socks.port}`], apiEnv(emulator));
  assert.match(stage(missing.json, 'socks_auth').detail, /requires authentication and none was given/);
  assert.match(stage(missing.json, 'socks_auth').hint ?? '', /put the credentials in the proxy URL: socks5:\/\/user:.*@host:port/);

  const wrongUrl = `socks5://probe:not-${password}@127.0.0.1:${socks.port}`;
  const wrong = await check(t, ['--proxy', wrongUrl], apiEnv(emulator));
  assert.match(stage(wrong.json, 'socks_auth').detail, /rejected the username and password \(user probe\)/);
  const run = await bgprobe(t, [...RUN, '--proxy', wrongUrl], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY }));
  assert.equal(run.code, 1);
  assert.match(run.stderr, /rejected the username and password \(user probe\)/);
  const report = readFileSync(join(run.cwd, 'report.md'), 'utf8');
  for (const text of [JSON.stringify(good.json), JSON.stringify(wrong.json), run.stderr, run.stdout, report]) assert.ok(!text.includes(password), 'no SOCKS password anywhere');
});

test('SOCKS5 via ALL_PROXY: NO_PROXY still wins, and a scheme-specific proxy is preferred, as curl does', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const socks = await startSocksProxy(t, { reply: 2 });
  const bypassed = await check(t, [], apiEnv(emulator, { ALL_PROXY: `socks5://127.0.0.1:${socks.port}`, NO_PROXY: '127.0.0.1' }));
  assert.equal(bypassed.code, 0);
  assert.match(bypassed.json.proxy, /^direct \(NO_PROXY matches/);
  assert.equal(socks.connects.length, 0);
});

test('the installed command and the single-file bundle reach an HTTPS API through a SOCKS5 proxy', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const socks = await startSocksProxy(t);
  const single = await bundle(join(tempDir(t), 'bgprobe.mjs'));
  for (const script of [BIN, single]) {
    const before = socks.connects.length;
    const result = await runNodeScript(script, [...RUN, '--ca-file', apiCa.certPath], {
      cwd: tempDir(t),
      env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl, ALL_PROXY: `socks5h://127.0.0.1:${socks.port}` },
    });
    assert.equal(result.code, 0, `${script}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /ExperimentalWarning/);
    assert.equal(socks.connects.length, before + 1, `${script}: one SOCKS connection for the whole run`);
  }
});
