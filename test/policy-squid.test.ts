import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { apiEnv, bgprobe, httpsEmulatorFor, verdicts, type CheckJson } from './egress-fixtures.js';
import { runMain, tempDir } from './helpers.js';
import { parseWithSquid, squidSkip, startSquid } from './squid.js';

async function squidSnippet(t: TestContext, baseUrl?: string): Promise<string> {
  const result = await runMain(['policy', '--for', 'squid', ...(baseUrl ? ['--base-url', baseUrl] : [])], {}, tempDir(t));
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

test('squid itself accepts every squid snippet bgprobe prints, without an error or a warning', { skip: squidSkip }, async (t) => {
  for (const baseUrl of [undefined, 'https://gateway.example:8443/openai/v1', 'http://127.0.0.1:8080/v1', 'https://[::1]:8443/v1']) {
    const { code, complaints } = parseWithSquid(t, await squidSnippet(t, baseUrl));
    assert.equal(code, 0, `${baseUrl ?? 'default'}: ${complaints.join('\n')}`);
    assert.deepEqual(complaints, [], baseUrl ?? 'default');
  }
});

test('a real squid with the snippet for the base URL lets check through, and refuses it with the snippet for another host', { skip: squidSkip }, async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const allowed = await startSquid(t, await squidSnippet(t, emulator.baseUrl));
  const through = await bgprobe(t, ['check', '--json'], apiEnv(emulator, { HTTPS_PROXY: allowed.url }));
  const json = JSON.parse(through.stdout) as CheckJson;
  assert.equal(through.code, 0, through.stdout);
  assert.deepEqual(verdicts(json), { create: 'ok', retrieve: 'ok', cancel: 'ok' });

  const other = await startSquid(t, await squidSnippet(t));
  const refused = await bgprobe(t, ['check', '--json'], apiEnv(emulator, { HTTPS_PROXY: other.url }));
  assert.equal(refused.code, 1);
  const blocked = JSON.parse(refused.stdout) as CheckJson & { control?: { cause: string } | null };
  assert.equal(verdicts(blocked)['create'], 'blocked');
  assert.equal(blocked.control?.cause, 'squid_denied', 'squid named by its X-Squid-Error');
});
