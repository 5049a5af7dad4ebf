import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiCa, apiEnv, authorityOf, bgprobe, httpsEmulatorFor, proxyCa } from './egress-fixtures.js';
import { runCli, tempDir, TEST_KEY } from './helpers.js';
import { startConnectProxy, startInterceptingProxy, startSilentListener } from './proxies.js';

const RUN = ['run', '--poll-interval', '0.05', '--output', 'report.md', '--prompt', 'ping'];

function report(dir: string): string {
  return readFileSync(join(dir, 'report.md'), 'utf8');
}

test('run over HTTPS, direct and through an allowlisting CONNECT proxy, completes', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const direct = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY }));
  assert.equal(direct.code, 0, direct.stderr);

  const proxy = await startConnectProxy(t, { allow: [authorityOf(emulator)] });
  const dir = tempDir(t);
  // A value without a scheme, as curl accepts it, is read as http://.
  const scheme = proxy.url.replace('http://', '');
  const proxied = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: scheme }), dir);
  assert.equal(proxied.code, 0, proxied.stderr);
  assert.ok(proxy.connects.length >= 1, 'the run went through the proxy');
  assert.match(report(dir), new RegExp(`\\| Proxy \\| through ${proxy.url.replace(/\./g, '\\.')} \\(HTTPS_PROXY\\) \\|`));
});

test('run through a proxy that denies the host at CONNECT fails with the one-line diagnosis, recorded in the report', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { allow: [] });
  const dir = tempDir(t);
  const result = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: proxy.url }), dir);
  assert.equal(result.code, 1);
  const line = /^bgprobe: (.+)$/m.exec(result.stderr)?.[1] ?? '';
  assert.match(line, /^create \(POST \/v1\/responses\): the proxy refused CONNECT 127\.0\.0\.1:\d+: HTTP 403 Forbidden \(x-proxy-error: blocked-by-allowlist, server: envoy\), not an answer from the API; the egress policy must allow 127\.0\.0\.1:\d+/);
  assert.ok(report(dir).includes(line), 'the report records the diagnosis');
  assert.equal(emulator.requests.length, 0);
});

test('run through a TLS-intercepting proxy that allows only GET, HEAD and OPTIONS: create blocked, named as the proxy, not the API', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startInterceptingProxy(t, { ca: proxyCa, upstreamCa: apiCa.cert, allowMethods: ['GET', 'HEAD', 'OPTIONS'] });
  const dir = tempDir(t);
  const env = apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: proxy.url });
  const result = await bgprobe(t, [...RUN, '--ca-file', proxyCa.certPath], env, dir);
  assert.equal(result.code, 1);
  const line = /^bgprobe: (.+)$/m.exec(result.stderr)?.[1] ?? '';
  assert.match(line, /^create was blocked by a proxy, HTTP 403 \(x-proxy-error: blocked-by-method-policy\), not an answer from the API: the egress policy must allow POST \/v1\/responses on 127\.0\.0\.1:\d+; the proxy said: "CODEX_NETWORK_POLICY_DECISION .*"; blocked by Codex sandbox proxy \(limited mode: GET, HEAD and OPTIONS only\): set mode = "full" in the \[network\] table of ~\/\.codex\/config\.toml/);
  assert.ok(report(dir).includes(line));
  assert.deepEqual(proxy.requests.map((r) => r.method), ['POST']);
  assert.equal(emulator.requests.length, 0);

  // Without the proxy's CA the run stops at TLS, and says how to trust it.
  const untrusted = await bgprobe(t, RUN, env);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /TLS handshake .*SELF_SIGNED_CERT_IN_CHAIN.*--ca-file, --system-ca or NODE_EXTRA_CA_CERTS/);
});

test('NO_PROXY bypasses the proxy for the API host', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { allow: [] });
  const bypasses: Record<string, string>[] = [{ NO_PROXY: '127.0.0.1' }, { no_proxy: `localhost, 127.0.0.1:${emulator.port}` }];
  for (const noProxy of bypasses) {
    const result = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, https_proxy: proxy.url, ...noProxy }));
    assert.equal(result.code, 0, result.stderr);
  }
  assert.equal(proxy.connects.length, 0);
  // A NO_PROXY entry for another port does not match.
  const other = await bgprobe(t, RUN, apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1:1' }));
  assert.equal(other.code, 1);
  assert.equal(proxy.connects.length, 1);
});

test('proxy credentials are used but never shown', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const password = 'pr0xy-Secret-Pass';
  const proxy = await startConnectProxy(t, { allow: [authorityOf(emulator)], credentials: { user: 'alice', password } });
  const dir = tempDir(t);
  const withCredentials = `http://alice:${password}@127.0.0.1:${proxy.port}`;
  const ok = await bgprobe(t, [...RUN, '--proxy', withCredentials, '--json'], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY }), dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(proxy.connects[0]?.authorization, `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`);
  assert.match(report(dir), /\| Proxy \| through http:\/\/alice:\*\*\*@127\.0\.0\.1:\d+ \(--proxy\) \|/);

  const wrong = `http://alice:Wrong-Password-123@127.0.0.1:${proxy.port}`;
  const refused = await bgprobe(t, [...RUN, '--proxy', wrong], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY }), dir);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /HTTP 407 .*proxy-authenticate: Basic realm="test".*credentials/);
  const checked = await bgprobe(t, ['check', '--proxy', withCredentials], apiEnv(emulator), dir);
  assert.equal(checked.code, 0, checked.stdout);
  assert.match(checked.stdout, /alice:\*\*\*@/);
  for (const text of [ok.stdout, ok.stderr, report(dir), refused.stderr, refused.stdout, checked.stdout]) {
    assert.ok(!text.includes(password) && !text.includes('Wrong-Password-123'), 'no proxy password in any output');
  }
});

test('no hang: a proxy that closes the connection on CONNECT without answering ends the run at once (not at --timeout), naming the cause', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { dropConnect: true });
  const dir = tempDir(t);
  const started = Date.now();
  // A real process: it must end by itself, with nothing left spinning in undici.
  // --timeout 60: the run must not wait for it (undici 7 would reconnect until then, nodejs/undici#3897).
  const result = await runCli([...RUN, '--timeout', '60'], { cwd: dir, env: apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: proxy.url }), timeoutMs: 30_000 });
  assert.equal(result.signal, null, 'the run ended by itself');
  assert.equal(result.code, 1);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  assert.match(result.stderr, /the proxy http:\/\/127\.0\.0\.1:\d+ closed the connection \d+ times without answering CONNECT 127\.0\.0\.1:\d+ \(it dropped the tunnel\)/);
  assert.doesNotMatch(result.stderr, /may have been created|Retry/, 'nothing passed the proxy, and a dropped tunnel is not retried');
  assert.ok(proxy.connects.length >= 3 && proxy.connects.length < 20, `a few CONNECTs, not a loop: ${proxy.connects.length}`);
  assert.match(report(dir), /dropped the tunnel/);
});

test('an https:// URL for a plain HTTP proxy is named as the proxy\'s TLS failure, in run and in check', { timeout: 30_000 }, async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { allow: [authorityOf(emulator)] });
  const env = apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: proxy.url.replace('http:', 'https:') });
  // undici retries this handshake until the deadline: --timeout bounds it.
  const run = await bgprobe(t, [...RUN, '--timeout', '1'], env);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /the connection to the proxy https:\/\/127\.0\.0\.1:\d+ failed \(ERR_SSL_WRONG_VERSION_NUMBER\), (\d+ times, )?before any CONNECT; if it is a plain HTTP proxy, write its URL with http:\/\//);
  const check = await bgprobe(t, ['check'], env);
  assert.equal(check.code, 1);
  assert.match(check.stdout, /FAIL\s+proxy TLS .*ERR_SSL_WRONG_VERSION_NUMBER/);
  assert.match(check.stdout, /hint: if the proxy speaks plain HTTP, write its URL with http:\/\//);
});

test('a listener that accepts and never answers is diagnosed within the timeout, as API host and as proxy', { timeout: 30_000 }, async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const silent = await startSilentListener(t);
  // Never sent, so it is retried like any undelivered request: one retry keeps the test short.
  const asHost = await bgprobe(t, [...RUN, '--timeout', '0.5', '--max-retries', '1'], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `https://127.0.0.1:${silent.port}/v1` }));
  assert.equal(asHost.code, 1);
  assert.match(asHost.stderr, /POST \/v1\/responses: .*(Connect Timeout|no complete answer within 0\.5 s|did not complete within --timeout; the request was never sent)/);
  const asProxy = await bgprobe(t, [...RUN, '--timeout', '0.5'], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: `http://127.0.0.1:${silent.port}` }));
  assert.equal(asProxy.code, 1);
  assert.match(asProxy.stderr, /accepted the connection but never answered CONNECT/);
});

test('bad proxy and CA settings are usage errors: one line, exit 2, nothing sent', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['--proxy', 'ftp://127.0.0.1:21'], {}, /--proxy uses ftp:\/\/, which bgprobe cannot use/],
    [[], { HTTPS_PROXY: 'http://u:Very-Secret-1@[bad' }, /^bgprobe: HTTPS_PROXY "http:\/\/u:\*\*\*@\[bad" is not a proxy URL/],
    [['--ca-file', 'missing.pem'], {}, /--ca-file "missing\.pem" cannot be read \(ENOENT\)/],
    [['--system-ca'], { SSL_CERT_FILE: '/nonexistent/bundle.pem' }, /--system-ca: \/nonexistent\/bundle\.pem holds no readable PEM certificate/],
  ];
  for (const [args, env, expected] of cases) {
    for (const command of ['run', 'check']) {
      const result = await bgprobe(t, [command, ...args], apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, ...env }));
      assert.equal(result.code, 2, `${command} ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.trim().split('\n').length, 1);
      assert.ok(!result.stderr.includes('Very-Secret-1'));
    }
  }
  assert.equal(emulator.requests.length, 0);
});
