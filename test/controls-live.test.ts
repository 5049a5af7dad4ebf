import assert from 'node:assert/strict';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { apiCa, apiEnv, bgprobe, httpsEmulatorFor, proxyCa } from './egress-fixtures.js';
import { emulatorFor, TEST_KEY } from './helpers.js';
import { startConnectProxy, startInterceptingProxy, startSilentListener } from './proxies.js';

/**
 * Each egress control that can stand on loopback, reproduced by a real server answering as the
 * control does, and named by `check` and `run` through the code paths users run. (The ones that
 * need an address off the machine are in test/controls.test.ts, from their recorded answers.)
 */

interface ControlJson {
  control?: { cause: string; control: string; fix: string } | null;
  possible_control?: { cause: string; control: string; fix: string; observed: string; alternatives: string } | null;
  blocked_by?: { cause: string; control: string; fix: string } | null;
  possibly_blocked_by?: { cause: string; control: string; fix: string; observed: string; alternatives: string } | null;
}

async function listen(t: TestContext, server: ReturnType<typeof createServer> | ReturnType<typeof createHttpServer>): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as { port: number }).port;
}

/** A proxy that answers every CONNECT with this status line, headers and body (or 200 and then silence). */
async function markedProxy(t: TestContext, answer: { status: string; headers: Record<string, string>; body: string } | 'silent-after-200'): Promise<string> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      if (answer === 'silent-after-200') return void socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      const head = Object.entries({ ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) }).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.end(`HTTP/1.1 ${answer.status}\r\n${head.join('')}\r\n${answer.body}`);
    });
  });
  return `http://127.0.0.1:${await listen(t, server)}`;
}

const RUN = ['run', '--json', '--max-retries', '0', '--output', 'r.md', '--poll-interval', '0.05'];

async function checkAndRun(t: TestContext, env: Record<string, string>, extra: readonly string[] = []) {
  const check = await bgprobe(t, ['check', ...extra], env);
  const checkJson = JSON.parse((await bgprobe(t, ['check', '--json', ...extra], env)).stdout) as ControlJson;
  const run = await bgprobe(t, [...RUN, ...extra], { ...env, OPENAI_API_KEY: TEST_KEY });
  return { check, checkJson, run, runJson: JSON.parse(run.stdout) as ControlJson };
}

test('Codex sandbox proxy: check and run name it from x-proxy-error, with the config.toml fix', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await markedProxy(t, {
    status: '403 Forbidden',
    headers: { 'content-type': 'text/plain', 'x-proxy-error': 'blocked-by-allowlist' },
    body: 'CODEX_NETWORK_POLICY_DECISION {"decision":"deny","reason":"not_allowed"}\nCodex blocked this request: domain not in allowlist.\n',
  });
  const { check, checkJson, run, runJson } = await checkAndRun(t, apiEnv(emulator, { HTTPS_PROXY: proxy }));
  assert.equal(check.code, 1);
  assert.match(check.stdout, /^Verdict: blocked by Codex sandbox proxy \(host not on its allowlist\): add "127\.0\.0\.1" to allowed_domains in the \[network\] table of ~\/\.codex\/config\.toml/m);
  assert.equal(checkJson.control?.cause, 'codex_sandbox_allowlist');
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^bgprobe: .*blocked by Codex sandbox proxy \(host not on its allowlist\): add "127\.0\.0\.1" to allowed_domains/m);
  assert.equal(runJson.blocked_by?.cause, 'codex_sandbox_allowlist');
});

test("an Envoy that refuses CONNECT: named with Codex cloud's internet access settings", async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await markedProxy(t, { status: '403 Forbidden', headers: { server: 'envoy', 'content-type': 'text/plain' }, body: '' });
  const { check, checkJson, run, runJson } = await checkAndRun(t, apiEnv(emulator, { HTTPS_PROXY: proxy }));
  assert.match(check.stdout, /^Verdict: blocked by Envoy egress proxy \(Codex cloud's, in the reports\): Codex cloud: turn the environment's agent internet access On and add 127\.0\.0\.1/m);
  assert.equal(checkJson.control?.cause, 'envoy_connect_refused');
  assert.match(run.stderr, /blocked by Envoy egress proxy/);
  assert.equal(runJson.blocked_by?.cause, 'envoy_connect_refused');
});

test('Codex sandbox limited mode (method policy through its MITM): create refused, named with mode = "full"', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startInterceptingProxy(t, { ca: proxyCa, upstreamCa: apiCa.cert, allowMethods: ['GET', 'HEAD', 'OPTIONS'] });
  const { checkJson, run, runJson } = await checkAndRun(t, apiEnv(emulator, { HTTPS_PROXY: proxy.url }), ['--ca-file', proxyCa.certPath]);
  assert.equal(checkJson.control?.cause, 'codex_sandbox_method');
  assert.match(checkJson.control?.fix ?? '', /mode = "full"/);
  assert.match(run.stderr, /blocked by Codex sandbox proxy \(limited mode: GET, HEAD and OPTIONS only\): set mode = "full"/);
  assert.equal(runJson.blocked_by?.cause, 'codex_sandbox_method');
});

test('"allowed HTTP methods: GET, HEAD, OPTIONS": check sees create refused while retrieve reaches the API; run alone does not guess', async (t) => {
  const emulator = await emulatorFor(t);
  const upstream = new URL(emulator.baseUrl);
  // A gateway that passes GET to the API and refuses every other method with its own bare 403.
  const gateway = createHttpServer((req, res) => {
    if (req.method !== 'GET') {
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden\n');
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    forward.end();
  });
  const port = await listen(t, gateway);
  const env = { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` };
  const { check, checkJson, runJson } = await checkAndRun(t, env);
  assert.match(check.stdout, /^Verdict: blocked by allowed HTTP methods limited to GET, HEAD and OPTIONS: Codex cloud: set the environment's allowed HTTP methods to All, or allow POST to 127\.0\.0\.1$/m);
  assert.equal(checkJson.control?.cause, 'methods_get_only');
  // A run's create was refused, and nothing it saw shows that a GET would pass: no control named.
  assert.equal(runJson.blocked_by, null);
});

/** check and run through a tunnel that opened and stayed silent: what was seen, the sandbox proxy only one of its possible causes. */
async function assertSilentTunnelNotAVerdict(t: TestContext, env: Record<string, string>): Promise<void> {
  const { check, checkJson, run, runJson } = await checkAndRun(t, env, ['--timeout', '1']);
  assert.equal(check.code, 1);
  assert.doesNotMatch(check.stdout, /^Verdict:|blocked by/m);
  assert.match(check.stdout, /^Cause not certain: the proxy accepted the tunnel to 127\.0\.0\.1:\d+ \(CONNECT 200\), then nothing came back through it in 1 s: either a sandbox proxy .*, or a slow or dead upstream: the proxy's own connection to 127\.0\.0\.1:\d+ hanging, or the API slow to answer/m);
  assert.equal(checkJson.control, null);
  assert.equal(checkJson.possible_control?.cause, 'silent_tunnel');
  assert.match(checkJson.possible_control?.alternatives ?? '', /slow or dead upstream/);
  assert.equal(run.code, 1);
  assert.doesNotMatch(run.stderr, /blocked by/);
  assert.match(run.stderr, /^bgprobe: .*the proxy accepted the tunnel to 127\.0\.0\.1:\d+ \(CONNECT 200\), then nothing came back through it in 1 s: either a sandbox proxy .*, or a slow or dead upstream/m);
  assert.equal(runJson.blocked_by, null, run.stderr);
  assert.equal(runJson.possibly_blocked_by?.cause, 'silent_tunnel', run.stderr);
  assert.match(runJson.possibly_blocked_by?.observed ?? '', /nothing came back through it in 1 s/);
}

test('a proxy that accepts CONNECT with 200 and then stays silent: what was seen, the sandbox proxy as a possible cause, not a verdict', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await markedProxy(t, 'silent-after-200');
  await assertSilentTunnelNotAVerdict(t, apiEnv(emulator, { HTTPS_PROXY: proxy }));
});

test('a CONNECT proxy that tunnels to a real upstream which accepts and stays silent (a slow API): never called blocked by a sandbox control', async (t) => {
  const upstream = await startSilentListener(t);
  const proxy = await startConnectProxy(t);
  await assertSilentTunnelNotAVerdict(t, { OPENAI_BASE_URL: `https://127.0.0.1:${upstream.port}/v1`, HTTPS_PROXY: proxy.url });
  // The tunnel reached the upstream: the proxy did its job, the silence came from beyond it.
  assert.ok(upstream.accepted >= 2, `the upstream accepted ${upstream.accepted} connections`);
  assert.ok(proxy.connects.length >= 2);
});

test('an intercepting proxy whose CA is not trusted: named by the issuer of the certificate it presents', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startInterceptingProxy(t, { ca: proxyCa, upstreamCa: apiCa.cert, allowMethods: ['GET', 'POST'] });
  const check = await bgprobe(t, ['check', '--json'], apiEnv(emulator, { HTTPS_PROXY: proxy.url }));
  const json = JSON.parse(check.stdout) as ControlJson;
  assert.equal(json.control?.cause, 'tls_interception');
  assert.equal(json.control?.control, 'TLS-intercepting proxy or private CA (issuer "bgprobe tests")');
  assert.match(json.control?.fix ?? '', /--ca-file PATH/);
});

test('a Cloudflare challenge page instead of the API: check and run name it and quote the cf-ray', async (t) => {
  const challenge = createHttpServer((req, res) => {
    req.resume();
    res
      .writeHead(403, { 'content-type': 'text/html; charset=UTF-8', 'cf-mitigated': 'challenge', server: 'cloudflare', 'cf-ray': '8f1e2d3c4b5a6978-LHR' })
      .end('<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script></body></html>');
  });
  const port = await listen(t, challenge);
  const { check, checkJson, run, runJson } = await checkAndRun(t, { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` });
  assert.match(check.stdout, /^Verdict: blocked by Cloudflare challenge page: .*cf-ray 8f1e2d3c4b5a6978-LHR$/m);
  assert.equal(checkJson.control?.cause, 'cloudflare_challenge');
  assert.match(run.stderr, /blocked by Cloudflare challenge page/);
  assert.equal(runJson.blocked_by?.cause, 'cloudflare_challenge');
});

test('a plain refusal with no control\'s marks names no control in check or run', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await markedProxy(t, { status: '403 Forbidden', headers: { 'content-type': 'text/plain' }, body: 'no' });
  const { check, checkJson, runJson } = await checkAndRun(t, apiEnv(emulator, { HTTPS_PROXY: proxy }));
  assert.doesNotMatch(check.stdout, /^Verdict:/m);
  assert.equal(checkJson.control, null);
  assert.equal(runJson.blocked_by, null);
});
