import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import { endOfLifeNote, envProxySwitch, nodeOffers, systemCaSwitches } from '../src/egress/node-advice.js';
import { authSchemes, pageText } from '../src/egress/proxy-answers.js';
import { apiCa, apiEnv, authorityOf, bgprobe, httpsEmulatorFor, proxyCa, stage, verdicts, type CheckJson } from './egress-fixtures.js';
import { TEST_KEY } from './helpers.js';
import { startConnectProxy, startInterceptingProxy } from './proxies.js';
import { makeLeaf } from './tls-fixtures.js';

const RUN = ['run', '--poll-interval', '0.05', '--output', 'report.md', '--prompt', 'ping'];

async function check(t: TestContext, args: string[], env: Record<string, string>): Promise<{ code: number; json: CheckJson }> {
  const result = await bgprobe(t, ['check', '--json', ...args], env);
  return { code: result.code, json: JSON.parse(result.stdout) as CheckJson };
}

function bgprobeLine(stderr: string): string {
  return /^bgprobe: (.+)$/m.exec(stderr)?.[1] ?? '';
}

test('a proxy that resets CONNECT ends a run within seconds with the words check uses, and nothing is retried', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { resetConnect: true });
  const env = apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: proxy.url });
  const checked = await check(t, [], env);
  const said = stage(checked.json, 'connect').detail;
  assert.match(said, /closed the connection without answering CONNECT 127\.0\.0\.1:\d+ \(it dropped the tunnel\)/);
  const started = Date.now();
  const run = await bgprobe(t, [...RUN, '--timeout', '60'], env);
  assert.equal(run.code, 1);
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  assert.match(bgprobeLine(run.stderr), /the proxy http:\/\/127\.0\.0\.1:\d+ closed the connection( \d+ times)? without answering CONNECT 127\.0\.0\.1:\d+ \(it dropped the tunnel\); the proxy cannot reach/);
  assert.doesNotMatch(run.stderr, /Retry|may have been created/);
});

test('a reset after CONNECT 200 (inside the tunnel) is not called a dropped tunnel', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { resetAfterConnect: true });
  const env = apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: proxy.url });
  const checked = await check(t, [], env);
  assert.equal(stage(checked.json, 'connect').status, 'ok');
  assert.equal(stage(checked.json, 'tls').status, 'failed');
  const run = await bgprobe(t, [...RUN, '--max-retries', '2'], env);
  assert.equal(run.code, 1);
  assert.doesNotMatch(run.stderr, /dropped the tunnel|without answering CONNECT/);
  assert.match(bgprobeLine(run.stderr), /ECONNRESET|socket disconnected|TLS/);
});

test('407: missing and rejected Basic credentials are told apart; NTLM says URL credentials cannot work and names px or cntlm', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const password = 'Proxy-Pass-777';
  const basic = await startConnectProxy(t, { credentials: { user: 'probe', password }, allow: [authorityOf(emulator)] });
  const at = (user: string): string => basic.url.replace('http://', `http://${user}@`);

  const missing = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: basic.url }));
  assert.match(stage(missing.json, 'connect').detail, /HTTP 407 Proxy Authentication Required \(proxy-authenticate: Basic realm="test"\)/);
  assert.match(stage(missing.json, 'connect').hint ?? '', /wants credentials and it asks for Basic \(Proxy-Authenticate\): put them in the proxy URL/);
  const wrong = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: at(`probe:wrong-${password}`) }));
  assert.match(stage(wrong.json, 'connect').hint ?? '', /rejected the credentials in the proxy URL \(user probe\); it asks for Basic/);
  const right = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: at(`probe:${password}`) }));
  assert.equal(right.code, 0);
  // run gives the same advice, from the headers undici publishes.
  const run = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: at(`probe:wrong-${password}`) }));
  assert.equal(run.code, 1);
  assert.match(bgprobeLine(run.stderr), /refused CONNECT .*HTTP 407.*rejected the credentials in the proxy URL \(user probe\)/);
  assert.ok(!`${run.stderr}${JSON.stringify(wrong.json)}`.includes(password));

  const ntlm = await startConnectProxy(t, { refusal: { status: '407 Proxy Authentication Required', headers: { 'proxy-authenticate': 'NTLM, Negotiate' }, body: '' } });
  const withUrlCredentials = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: ntlm.url.replace('http://', `http://probe:${password}@`) }));
  assert.match(stage(withUrlCredentials.json, 'connect').hint ?? '', /asks for NTLM, Negotiate \(Proxy-Authenticate\), which credentials in a proxy URL cannot satisfy.*px or cntlm/);
  const ntlmRun = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: ntlm.url }));
  assert.match(bgprobeLine(ntlmRun.stderr), /NTLM, Negotiate.*cannot satisfy.*px or cntlm/);
  assert.deepEqual(authSchemes('Digest realm="x", qop="auth", Basic realm="y"'), ['Digest', 'Basic']);
});

test("a CONNECT refusal shows the proxy's own reason: X-Squid-Error and the page's text in one line, a 502's explanation", async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const page = '<!DOCTYPE html><html><head><title>ERROR: The requested URL could not be retrieved</title><style>body { color: red }</style></head>\n<body><h1>Access Denied</h1>\n<p>Access control configuration prevents your request &amp; this host.</p></body></html>';
  const squid = await startConnectProxy(t, { refusal: { status: '403 Forbidden', headers: { 'x-squid-error': 'ERR_ACCESS_DENIED 0', server: 'squid/6.6', 'content-type': 'text/html' }, body: page } });
  const { code, json } = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: squid.url }));
  assert.equal(code, 1);
  const detail = stage(json, 'connect').detail;
  assert.match(detail, /x-squid-error: ERR_ACCESS_DENIED 0/);
  assert.ok(detail.includes('"ERROR: The requested URL could not be retrieved: Access Denied Access control configuration prevents your request & this host."'), detail);
  assert.doesNotMatch(detail, /<|color: red/);
  assert.equal(verdicts(json)['create'], 'blocked');
  const run = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: squid.url }));
  assert.match(bgprobeLine(run.stderr), /HTTP 403 Forbidden \(x-squid-error: ERR_ACCESS_DENIED 0, server: squid\/6\.6\)/);

  const gateway = await startConnectProxy(t, { refusal: { status: '502 Bad Gateway', headers: { 'content-type': 'text/plain' }, body: 'upstream connect error: DNS lookup of the host failed\n' } });
  const failed = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: gateway.url }));
  assert.match(stage(failed.json, 'connect').detail, /HTTP 502 Bad Gateway: "upstream connect error: DNS lookup of the host failed"/);
  assert.match(stage(failed.json, 'connect').hint ?? '', /the proxy itself could not reach 127\.0\.0\.1:\d+/);
  assert.equal(pageText('x'.repeat(500)).length, 200, 'a page is capped');
});

test('an https:// proxy with an untrusted certificate is named as that, in check and in run; --ca-file fixes it', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const leaf = makeLeaf(proxyCa, 'bgprobe test https proxy');
  const proxy = await startConnectProxy(t, { allow: [authorityOf(emulator)], tls: { key: leaf.key, cert: leaf.chain } });
  const env = apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: proxy.url });
  const checked = await check(t, [], env);
  assert.match(stage(checked.json, 'proxy_tls').detail, /the https:\/\/ proxy https:\/\/127\.0\.0\.1:\d+ presented a certificate this run does not trust \(SELF_SIGNED_CERT_IN_CHAIN\)/);
  assert.match(stage(checked.json, 'proxy_tls').hint ?? '', /--ca-file/);
  const run = await bgprobe(t, RUN, env);
  assert.equal(run.code, 1);
  assert.match(bgprobeLine(run.stderr), /the https:\/\/ proxy https:\/\/127\.0\.0\.1:\d+ presented a certificate this run does not trust \(SELF_SIGNED_CERT_IN_CHAIN\)/);
  assert.doesNotMatch(run.stderr, /that the proxy runs/);
  const trusted = await bgprobe(t, [...RUN, '--ca-file', proxyCa.certPath], env);
  assert.equal(trusted.code, 0, trusted.stderr);
});

test('trust hints fire for a chain with only the leaf (as mitmproxy sends) and for one with the CA (as the test proxy sends by default)', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  // Both shapes: the leaf-only one failed before the issuer test in chain.ts was turned round.
  for (const leafOnly of [true, false]) {
    const proxy = await startInterceptingProxy(t, { ca: proxyCa, upstreamCa: apiCa.cert, allowMethods: ['GET'], leafOnly });
    const plain = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: proxy.url }));
    assert.equal(stage(plain.json, 'tls').chain?.length, leafOnly ? 1 : 2);
    assert.match(stage(plain.json, 'tls').detail, leafOnly ? /UNABLE_TO_VERIFY_LEAF_SIGNATURE/ : /SELF_SIGNED_CERT_IN_CHAIN/);
    const bundled = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: proxy.url, SSL_CERT_FILE: proxyCa.certPath }));
    const hint = stage(bundled.json, 'tls').hint ?? '';
    assert.match(hint, /its issuer is in the operating system's CA bundle .*add --system-ca/, `leafOnly=${leafOnly}`);
    assert.ok(hint.endsWith(`--system-ca${systemCaSwitches()}`), 'Node\'s own switches are named exactly when this Node has them');
    const curlOnly = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: proxy.url, CURL_CA_BUNDLE: proxyCa.certPath }));
    assert.ok((stage(curlOnly.json, 'tls').hint ?? '').includes(`add --ca-file ${proxyCa.certPath}`), `leafOnly=${leafOnly}`);
    const fixed = await check(t, ['--system-ca'], apiEnv(emulator, { HTTPS_PROXY: proxy.url, SSL_CERT_FILE: proxyCa.certPath }));
    assert.equal(stage(fixed.json, 'tls').status, 'ok');
  }
});

test("Node-aware advice: Node's switches by version, the end of life from one table, and check's note on this Node", async (t) => {
  assert.deepEqual(nodeOffers('20.20.2'), { useSystemCaFlag: false, useSystemCaEnv: false, useEnvProxy: false });
  assert.deepEqual(nodeOffers('22.19.0'), { useSystemCaFlag: true, useSystemCaEnv: true, useEnvProxy: false });
  assert.deepEqual(nodeOffers('22.21.0'), { useSystemCaFlag: true, useSystemCaEnv: true, useEnvProxy: true });
  assert.deepEqual(nodeOffers('24.0.0'), { useSystemCaFlag: true, useSystemCaEnv: false, useEnvProxy: true });
  assert.deepEqual(nodeOffers('24.6.0'), { useSystemCaFlag: true, useSystemCaEnv: true, useEnvProxy: true });
  assert.equal(systemCaSwitches('20.20.2'), '');
  assert.equal(envProxySwitch('20.20.2'), '');
  assert.match(envProxySwitch('24.0.0'), /NODE_USE_ENV_PROXY=1/);
  assert.match(systemCaSwitches('24.6.0'), /node --use-system-ca or NODE_USE_SYSTEM_CA=1/);
  assert.match(endOfLifeNote('20.20.2', new Date('2026-05-01')) ?? '', /reached its end of life on 2026-04-30/);
  assert.equal(endOfLifeNote('20.20.2', new Date('2026-04-29')), undefined);
  assert.equal(endOfLifeNote('24.6.0', new Date('2026-05-01')), undefined);

  const emulator = await httpsEmulatorFor(t);
  const { json } = await check(t, [], apiEnv(emulator));
  const expected = endOfLifeNote();
  assert.deepEqual(json.notes.filter((n) => /end of life/.test(n)), expected ? [expected] : []);
  // Behind a proxy from the environment: NODE_USE_ENV_PROXY is named exactly when this Node has it.
  const proxy = await startConnectProxy(t, { allow: [authorityOf(emulator)] });
  const proxied = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: proxy.url }));
  assert.deepEqual(proxied.json.notes.filter((n) => /NODE_USE_ENV_PROXY/.test(n)), envProxySwitch() ? [envProxySwitch()] : []);
});

test('a refused connection to a loopback port, or to the named proxy, gets at most one retry, naming what refused', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const emulator = await httpsEmulatorFor(t);

  const started = Date.now();
  const direct = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `https://127.0.0.1:${port}/v1` }));
  assert.equal(direct.code, 1);
  assert.match(bgprobeLine(direct.stderr), new RegExp(`the TCP connection to 127\\.0\\.0\\.1:${port} failed \\(ECONNREFUSED`));
  assert.equal(direct.stderr.match(/Retry \d+\/\d+/g)?.join(), 'Retry 1/1');
  const proxied = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: `http://127.0.0.1:${port}` }));
  assert.match(bgprobeLine(proxied.stderr), /the connection to the proxy http:\/\/127\.0\.0\.1:\d+ failed \(ECONNREFUSED\)/);
  assert.equal(proxied.stderr.match(/Retry \d+\/\d+/g)?.join(), 'Retry 1/1');
  // Five retries took about 13 s; one takes about half a second.
  assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
});
