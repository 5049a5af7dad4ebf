import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { apiCa, apiEnv, authorityOf, bgprobe, httpsEmulatorFor, proxyCa, stage, verdicts, type CheckJson } from './egress-fixtures.js';
import { runInstalled, tempDir, TEST_KEY } from './helpers.js';
import { startConnectProxy, startInterceptingProxy, startSilentListener } from './proxies.js';

async function check(t: TestContext, args: string[], env: Record<string, string>): Promise<{ code: number | null; json: CheckJson; stderr: string }> {
  const result = await bgprobe(t, ['check', '--json', ...args], env);
  assert.equal(result.stderr, '', 'check --json writes nothing to stderr');
  return { code: result.code, json: JSON.parse(result.stdout) as CheckJson, stderr: result.stderr };
}

test('check direct: every stage passes, the API answers every probe, and a missing key is "key not checked"', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  // A real process, so that Node itself reads NODE_EXTRA_CA_CERTS at start-up.
  const spawned = await runInstalled(['check', '--json'], { cwd: tempDir(t), env: apiEnv(emulator, { NODE_EXTRA_CA_CERTS: apiCa.certPath }) });
  const code = spawned.code;
  const json = JSON.parse(spawned.stdout) as CheckJson;
  assert.equal(code, 0);
  assert.equal(json.ok, true);
  assert.deepEqual(json.stages.map((s) => [s.name, s.status]), [['dns', 'ok'], ['tcp', 'ok'], ['tls', 'ok']]);
  assert.match(stage(json, 'tls').trusted_by ?? '', /NODE_EXTRA_CA_CERTS/);
  assert.deepEqual(verdicts(json), { create: 'ok', retrieve: 'ok', cancel: 'ok' });
  assert.ok(json.endpoints.every((e) => e.status === 401 && e.answered_by === 'api' && /key not checked/.test(e.detail)));
  // No token spent: the create probe carries no model, so the API can only reject it.
  const creates = emulator.requests.filter((r) => r.method === 'POST' && r.path === '/v1/responses');
  assert.equal(creates.length, 1);
  assert.equal(creates[0]!.body, '{}');

  // --ca-file adds a CA; it does not replace the store, so NODE_EXTRA_CA_CERTS still counts.
  const added = await runInstalled(['check', '--json', '--ca-file', proxyCa.certPath], { cwd: tempDir(t), env: apiEnv(emulator, { NODE_EXTRA_CA_CERTS: apiCa.certPath }) });
  const addedJson = JSON.parse(added.stdout) as CheckJson;
  assert.equal(added.code, 0, added.stdout);
  assert.match(stage(addedJson, 'tls').trusted_by ?? '', /NODE_EXTRA_CA_CERTS/);
});

test('check with a key the API refuses gives "auth"; with a good key the probes are "ok"', async (t) => {
  const emulator = await httpsEmulatorFor(t, { acceptKey: (key) => key === TEST_KEY });
  const refused = await check(t, [], apiEnv(emulator, { OPENAI_API_KEY: 'sk-wrong-key-0000000000000000' }));
  assert.equal(refused.code, 1);
  assert.deepEqual(verdicts(refused.json), { create: 'auth', retrieve: 'auth', cancel: 'auth' });
  assert.match(refused.json.endpoints[0]!.hint ?? '', /OPENAI_API_KEY/);
  const result = await bgprobe(t, ['check'], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY }));
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /key accepted/);
  assert.ok(!result.stdout.includes(TEST_KEY));
});

test('check through a CONNECT proxy that allows the host', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { allow: [authorityOf(emulator)] });
  const { code, json } = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: proxy.url }));
  assert.equal(code, 0, JSON.stringify(json, null, 1));
  assert.deepEqual(json.stages.map((s) => [s.name, s.status]), [['dns', 'ok'], ['tcp', 'ok'], ['connect', 'ok'], ['tls', 'ok']]);
  assert.match(json.proxy, /HTTPS_PROXY/);
  assert.ok(proxy.connects.length >= 2 && proxy.connects.every((c) => c.target === authorityOf(emulator)));
});

test('check: a host denied at CONNECT is "blocked", with the proxy policy header and no probe sent', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { allow: ['api.example:443'] });
  const { code, json } = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: proxy.url }));
  assert.equal(code, 1);
  const connect = stage(json, 'connect');
  assert.equal(connect.status, 'failed');
  assert.match(connect.detail, /HTTP 403/);
  assert.match(connect.detail, /x-proxy-error: blocked-by-allowlist/);
  assert.match(connect.hint ?? '', new RegExp(`must allow ${authorityOf(emulator)}`));
  assert.equal(stage(json, 'tls').status, 'skipped');
  assert.deepEqual(verdicts(json), { create: 'blocked', retrieve: 'blocked', cancel: 'blocked' });
  assert.equal(emulator.requests.length, 0);
});

test('check through a TLS-intercepting proxy that allows only GET, HEAD and OPTIONS: interception visible, create blocked, retrieve ok', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startInterceptingProxy(t, { ca: proxyCa, upstreamCa: apiCa.cert, allowMethods: ['GET', 'HEAD', 'OPTIONS'] });
  const { code, json } = await check(t, ['--ca-file', proxyCa.certPath], apiEnv(emulator, { HTTPS_PROXY: proxy.url }));
  assert.equal(code, 1);
  const tls = stage(json, 'tls');
  assert.equal(tls.status, 'ok');
  assert.equal(tls.intercepted, true);
  assert.match(tls.trusted_by ?? '', /--ca-file/);
  assert.equal(tls.chain?.[0]?.issuer, 'bgprobe test proxy CA, bgprobe tests');
  assert.ok(json.notes.some((n) => /re-signed on the way/.test(n)));
  assert.deepEqual(verdicts(json), { create: 'blocked', retrieve: 'ok', cancel: 'blocked' });
  const create = json.endpoints.find((e) => e.name === 'create')!;
  assert.equal(create.status, 403);
  assert.equal(create.answered_by, 'proxy');
  assert.equal(create.cause, 'proxy_refused');
  assert.match(create.hint ?? '', /blocked by a proxy, HTTP 403 \(x-proxy-error: blocked-by-method-policy\).*must allow POST \/v1\/responses on 127\.0\.0\.1:\d+/);
  assert.deepEqual(emulator.requests.map((r) => r.method), ['GET'], 'only the GET got through to the API');
});

test('check shows an untrusted interception chain without sending anything, and names the option that trusts it', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startInterceptingProxy(t, { ca: proxyCa, upstreamCa: apiCa.cert, allowMethods: ['GET'] });
  const plain = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: proxy.url }));
  assert.equal(plain.code, 1);
  const tls = stage(plain.json, 'tls');
  assert.equal(tls.status, 'failed');
  assert.match(tls.detail, /SELF_SIGNED_CERT_IN_CHAIN/);
  assert.deepEqual(tls.chain?.map((c) => c.subject), ['intercepted by bgprobe test proxy', 'bgprobe test proxy CA, bgprobe tests']);
  assert.match(tls.chain?.[0]?.sha256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.match(tls.hint ?? '', /--ca-file/);
  assert.deepEqual(verdicts(plain.json), { create: 'unreachable', retrieve: 'unreachable', cancel: 'unreachable' });
  assert.deepEqual(proxy.requests, [], 'nothing was sent over the unverified connection');

  // The CA sits in the OS bundle, which Node 20 ignores: check says --system-ca, and --system-ca works.
  const withBundle = apiEnv(emulator, { HTTPS_PROXY: proxy.url, SSL_CERT_FILE: proxyCa.certPath });
  const hinted = await check(t, [], withBundle);
  assert.match(stage(hinted.json, 'tls').hint ?? '', /--system-ca/);
  // A CA file handed to other tools (curl here) but not to Node: check names that file.
  const curlOnly = await check(t, [], apiEnv(emulator, { HTTPS_PROXY: proxy.url, CURL_CA_BUNDLE: proxyCa.certPath }));
  assert.ok((stage(curlOnly.json, 'tls').hint ?? '').includes(`add --ca-file ${proxyCa.certPath} (or set NODE_EXTRA_CA_CERTS to that file)`));
  const fixed = await check(t, ['--system-ca'], withBundle);
  assert.equal(stage(fixed.json, 'tls').status, 'ok');
  assert.equal(verdicts(fixed.json)['retrieve'], 'ok');
});

test('check: a proxy that drops CONNECT without answering, and a listener that never answers, get a verdict within the timeout', { timeout: 30_000 }, async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const dropper = await startConnectProxy(t, { dropConnect: true });
  const dropped = await check(t, ['--timeout', '1'], apiEnv(emulator, { HTTPS_PROXY: dropper.url }));
  assert.equal(dropped.code, 1);
  assert.match(stage(dropped.json, 'connect').detail, /closed the connection without answering CONNECT .*dropped the tunnel/);
  assert.deepEqual(verdicts(dropped.json), { create: 'unreachable', retrieve: 'unreachable', cancel: 'unreachable' });

  const silent = await startSilentListener(t);
  const started = Date.now();
  const direct = await bgprobe(t, ['check', '--json', '--timeout', '0.5'], apiEnv(emulator, { OPENAI_BASE_URL: `https://127.0.0.1:${silent.port}/v1` }));
  const json = JSON.parse(direct.stdout) as CheckJson;
  assert.equal(direct.code, 1);
  assert.equal(stage(json, 'tcp').status, 'ok');
  assert.match(stage(json, 'tls').detail, /no answer within 0\.5 s/);
  const asProxy = await check(t, ['--timeout', '0.5'], apiEnv(emulator, { HTTPS_PROXY: `http://127.0.0.1:${silent.port}` }));
  assert.match(stage(asProxy.json, 'connect').detail, /answer to CONNECT .*no answer within 0\.5 s/);
  // Generous against a loaded machine, yet far below a run's 60 s default: the bound holds.
  assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
});

test('check text output names each stage, verdict and hint', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { allow: [] });
  const result = await bgprobe(t, ['check'], apiEnv(emulator, { https_proxy: proxy.url }));
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAIL\s+proxy CONNECT .*HTTP 403/);
  assert.match(result.stdout, /hint: the egress policy must allow 127\.0\.0\.1:\d+/);
  assert.match(result.stdout, /^ {2}blocked +POST \/v1\/responses/m);
  assert.match(result.stdout, /Result: create blocked, retrieve blocked/);
  assert.match(result.stdout, /Notes\n {2}- the proxy resolves 127\.0\.0\.1 itself/);
});

test('check by host name: a real lookup, SNI and the certificate name all line up', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const { code, json } = await check(t, [], apiEnv(emulator, { OPENAI_BASE_URL: `https://localhost:${emulator.port}/v1` }));
  assert.equal(code, 0, JSON.stringify(json.stages, null, 1));
  assert.match(stage(json, 'dns').detail, /^localhost resolved to /);
  assert.match(stage(json, 'tls').detail, /TLSv1\.[23] with localhost/);
});
