import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { apiCa, apiEnv, bgprobe, httpsEmulatorFor, stage, verdicts, type CheckJson } from './egress-fixtures.js';
import { createServer as createTlsServer } from 'node:tls';
import { emulatorFor, TEST_KEY } from './helpers.js';
import { listenOnLoopback } from './loopback.js';
import { startConnectProxy } from './proxies.js';
import { makeCa, makeLeaf } from './tls-fixtures.js';

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

test('a server that answers the TLS handshake with an alert is not said to have cut the connection or to filter by name', async (t) => {
  // A TLS server that speaks only HTTP/2 refuses bgprobe's ALPN http/1.1 with the alert no_application_protocol.
  const leaf = makeLeaf(apiCa);
  const server = createTlsServer({ key: leaf.key, cert: leaf.chain, ALPNProtocols: ['h2'] });
  server.on('tlsClientError', () => {});
  const port = await listenOnLoopback(t, server);
  const { code, json } = await check(t, { OPENAI_BASE_URL: `https://127.0.0.1:${port}/v1` });
  assert.equal(code, 1);
  const tls = stage(json, 'tls');
  assert.equal(tls.status, 'failed');
  assert.match(tls.detail, /ALERT_NO_APPLICATION_PROTOCOL/);
  assert.doesNotMatch(tls.hint ?? '', /cut|filters by server name/);
  assert.match(tls.hint ?? '', /answered the handshake with a TLS alert/);
  assert.equal(verdicts(json)['create'], 'unreachable');
});

test('an expired certificate from a CA this run trusts is said to be expired, not untrusted', async (t) => {
  const expired = makeLeaf(apiCa, '127.0.0.1', -1);
  const emulator = await emulatorFor(t, { tls: { key: expired.key, cert: expired.chain } });
  // The API's CA is trusted here (bgprobe's test .env names it in NODE_EXTRA_CA_CERTS).
  const { code, json } = await check(t, apiEnv(emulator));
  assert.equal(code, 1);
  const tls = stage(json, 'tls');
  assert.equal(tls.status, 'failed');
  assert.match(tls.detail, /CERT_HAS_EXPIRED/);
  assert.doesNotMatch(tls.hint ?? '', /does not trust|--ca-file/);
  assert.match(tls.hint ?? '', /has expired/);
});

test('a run refused by an expired certificate is told to check dates, not to trust a CA', async (t) => {
  const expired = makeLeaf(apiCa, '127.0.0.1', -1);
  const emulator = await emulatorFor(t, { tls: { key: expired.key, cert: expired.chain } });
  const run = await bgprobe(t, ['run', '--output', 'r.md', '--prompt', 'ping', '--max-retries', '0'], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY }));
  assert.equal(run.code, 1);
  const line = /^bgprobe: (.+)$/m.exec(run.stderr)?.[1] ?? '';
  assert.match(line, /CERT_HAS_EXPIRED/);
  assert.doesNotMatch(line, /trust its CA/);
  assert.match(line, /has expired or is not valid yet: check this machine's clock/);
});

test("squid's 503 for a host it could not resolve (X-Squid-Error ERR_DNS_FAIL) is not called 'blocked by squid'; its 403 ERR_ACCESS_DENIED still is", async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const page = '<html><head><title>ERROR: The requested URL could not be retrieved</title></head><body>Unable to determine IP address from host name</body></html>';
  const squidDns = await startConnectProxy(t, { refusal: { status: '503 Service Unavailable', headers: { 'x-squid-error': 'ERR_DNS_FAIL 0', server: 'squid/6.6', 'content-type': 'text/html' }, body: page } });
  const { json } = await check(t, apiEnv(emulator, { HTTPS_PROXY: squidDns.url }));
  const control = (json as unknown as { control: { cause: string } | null }).control;
  assert.equal(control?.cause, undefined, `control named: ${JSON.stringify(control)}`);
  assert.equal(verdicts(json)['create'], 'unreachable');
  const text = await bgprobe(t, ['check'], apiEnv(emulator, { HTTPS_PROXY: squidDns.url }));
  assert.doesNotMatch(text.stdout, /blocked by squid/);

  const squidDenied = await startConnectProxy(t, { refusal: { status: '403 Forbidden', headers: { 'x-squid-error': 'ERR_ACCESS_DENIED 0', server: 'squid/6.6', 'content-type': 'text/html' }, body: page } });
  const denied = await check(t, apiEnv(emulator, { HTTPS_PROXY: squidDenied.url }));
  assert.equal((denied.json as unknown as { control: { cause: string } | null }).control?.cause, 'squid_denied');
});

test('a chain refused although its CA is in a store this run trusts (a CA marked CA:FALSE) is not said to be untrusted, nor --ca-file advised again', async (t) => {
  const homeMade = makeCa('home-made interception CA', true);
  const leaf = makeLeaf(homeMade);
  const emulator = await emulatorFor(t, { tls: { key: leaf.key, cert: leaf.chain } });
  const result = await bgprobe(t, ['check', '--json', '--ca-file', homeMade.certPath], apiEnv(emulator));
  const json = JSON.parse(result.stdout) as CheckJson;
  const tls = stage(json, 'tls');
  assert.equal(tls.status, 'failed');
  assert.doesNotMatch(tls.hint ?? '', /which this run does not trust|pass --ca-file/);
  assert.match(tls.hint ?? '', /this run trusts it \(--ca-file /);
});
