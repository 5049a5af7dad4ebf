import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { apiEnv, bgprobe, httpsEmulatorFor, stage, verdicts, type CheckJson } from './egress-fixtures.js';
import { startConnectProxy } from './proxies.js';

/**
 * check's claims held to what was observed: each case here is a server or proxy whose answer
 * looks like another cause, and the verdict or words must not name that other cause.
 */

async function check(t: TestContext, env: Record<string, string>): Promise<{ code: number; json: CheckJson }> {
  const result = await bgprobe(t, ['check', '--json'], env);
  return { code: result.code, json: JSON.parse(result.stdout) as CheckJson };
}

test('a proxy that answers CONNECT with 502 or 504 (it could not reach the host) makes the endpoints unreachable, not blocked; a 403 stays blocked', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  for (const status of ['502 Bad Gateway', '504 Gateway Timeout']) {
    const gateway = await startConnectProxy(t, { refusal: { status, headers: { 'content-type': 'text/plain' }, body: 'upstream connect error: DNS lookup of the host failed\n' } });
    const { code, json } = await check(t, apiEnv(emulator, { HTTPS_PROXY: gateway.url }));
    assert.equal(code, 1);
    assert.equal(stage(json, 'connect').status, 'failed');
    assert.deepEqual(verdicts(json), { create: 'unreachable', retrieve: 'unreachable', cancel: 'unreachable' }, status);
  }
  const denying = await startConnectProxy(t, { allow: [] });
  const { json } = await check(t, apiEnv(emulator, { HTTPS_PROXY: denying.url }));
  assert.equal(verdicts(json)['create'], 'blocked');
});
