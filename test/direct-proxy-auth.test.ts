import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { runMain, tempDir, TEST_KEY } from './helpers.js';
import type { CheckEndpoint } from './egress-fixtures.js';

/*
 * A 407 on a connection that goes through no HTTP proxy: no --proxy, no proxy variable that
 * applies. The user set no proxy, so the diagnosis must not speak of "your proxy" or of the
 * credentials in a proxy URL they never wrote: something on the way (a transparent proxy) or
 * the server at the base URL asked for proxy credentials.
 */


/** A server at the base URL that answers every request with 407, as a proxy mistaken for the API does. */
async function startProxyAuthServer(t: TestContext, challenge: string): Promise<{ baseUrl: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    res.writeHead(407, { 'proxy-authenticate': challenge, 'content-type': 'text/plain' }).end('Proxy authentication required');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests: () => requests };
}

test('a 407 answered on a direct connection: check and run say something on the way or the base URL asked for proxy credentials, never "your proxy"', async (t) => {
  const server = await startProxyAuthServer(t, 'Basic realm="corp"');
  const env = { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl };
  const check = await runMain(['check', '--json'], env, tempDir(t));
  assert.equal(check.code, 1);
  const endpoints = (JSON.parse(check.stdout) as { endpoints: CheckEndpoint[] }).endpoints;
  for (const e of endpoints) {
    assert.deepEqual([e.verdict, e.cause], ['blocked', 'proxy_auth_unconfigured'], e.name);
    assert.match(e.detail, /^HTTP 407 with no HTTP proxy in use, not the API: something on the way or the server at the base URL wants proxy credentials: "Proxy authentication required"$/);
    assert.match(e.hint ?? '', /configure that proxy explicitly, with its address and credentials \(--proxy http:\/\/user:\*\*\*@host:port, or HTTP_PROXY; .*or check --base-url \(now http:\/\/127\.0\.0\.1:\d+\/v1\)/);
    assert.doesNotMatch(e.hint ?? '', /put them in the proxy URL|rejected the credentials|refused by a proxy/);
  }
  const text = await runMain(['check'], env, tempDir(t));
  assert.match(text.stdout, /^ {2}blocked +POST \/v1\/responses .*create: HTTP 407 with no HTTP proxy in use/m);

  const run = await runMain(['run', '--json', '--max-retries', '0', '--output', 'r.md'], env, tempDir(t));
  assert.equal(run.code, 1);
  const line = run.stderr.split('\n').find((l) => l.startsWith('bgprobe: ')) ?? '';
  assert.match(line, /^bgprobe: create \(POST \/v1\/responses\) was answered HTTP 407 \(proxy-authenticate: Basic realm="corp"\) with no HTTP proxy in use, not by the API, which never asks for proxy credentials: something on the way to 127\.0\.0\.1:\d+ \(a transparent proxy\) or the server at the base URL wants them; .*configure that proxy explicitly/);
  assert.doesNotMatch(line, /put them in the proxy URL|rejected the credentials|refused by a proxy/);
  assert.equal((JSON.parse(run.stdout) as { error: string }).error, line.slice('bgprobe: '.length));
  // Three probes, two check runs, one create: nothing retried or resent.
  assert.equal(server.requests(), 7);
});

test('a direct 407 asking for NTLM: px or cntlm in front of that proxy, since URL credentials cannot answer it', async (t) => {
  const server = await startProxyAuthServer(t, 'NTLM');
  const run = await runMain(['run', '--max-retries', '0', '--output', 'r.md'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl }, tempDir(t));
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^bgprobe: .*with no HTTP proxy in use.*it asks for NTLM \(Proxy-Authenticate\), which credentials in a proxy URL cannot satisfy: run a local authenticating proxy such as px or cntlm in front of it and point --proxy or HTTP_PROXY at that/m);
});
