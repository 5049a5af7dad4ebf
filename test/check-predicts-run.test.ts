import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { writeFileSync } from 'node:fs';
import { apiCa, authorityOf, httpsEmulatorFor, proxyCa, type CheckEndpoint } from './egress-fixtures.js';
import { emulatorFor, runMain, tempDir, TEST_KEY } from './helpers.js';
import { startConnectProxy, startInterceptingProxy } from './proxies.js';

/*
 * check predicts run: for every kind of server a user may point bgprobe at, `check` exits 0
 * only when `run` against the same server completes, and `run` completes without saying its
 * answers were not the OpenAI API's only when `check` exits 0.
 */

// Counted retrieves, not a 30 ms clock: on a loaded machine the create's answer could come back in_progress.
const FAST = { pendingPolls: 1 };


interface Pair {
  check: { code: number; endpoints: CheckEndpoint[]; stdout: string };
  run: { code: number; json: Record<string, unknown>; stderr: string; report: string };
}

async function checkAndRun(t: TestContext, env: Record<string, string>, extra: readonly string[] = []): Promise<Pair> {
  const dir = tempDir(t);
  // For the HTTPS emulator: Node reads NODE_EXTRA_CA_CERTS only at start-up, bgprobe also from .env.
  writeFileSync(join(dir, '.env'), `NODE_EXTRA_CA_CERTS=${apiCa.certPath}\n`);
  const check = await runMain(['check', '--json', ...extra], env, dir);
  const run = await runMain(['run', '--json', '--poll-interval', '0.05', '--max-retries', '1', '--timeout', '5', '--output', 'r.md', ...extra], env, dir);
  const pair: Pair = {
    check: { code: check.code, endpoints: (JSON.parse(check.stdout) as { endpoints: CheckEndpoint[] }).endpoints, stdout: check.stdout },
    run: { code: run.code, json: JSON.parse(run.stdout) as Record<string, unknown>, stderr: run.stderr, report: readFileSync(join(dir, 'r.md'), 'utf8') },
  };
  const evidence = pair.run.json['evidence'] as { warning: string | null };
  // The promise of check, both ways.
  if (pair.check.code === 0) assert.equal(pair.run.code, 0, `check said ok, but the run failed:\n${pair.run.stderr}`);
  assert.equal(pair.check.code === 0, pair.run.code === 0 && evidence.warning === null, `check exit ${pair.check.code}, run exit ${pair.run.code}, evidence ${evidence.warning}`);
  return pair;
}

function byName(endpoints: readonly CheckEndpoint[]): Record<string, CheckEndpoint> {
  return Object.fromEntries(endpoints.map((e) => [e.name, e]));
}

async function serve(t: TestContext, handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ origin: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => closeHttp(server));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

test('the emulator at the right base URL: check ok, and the run completes with the API\'s marks and a background create', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const { check, run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl });
  assert.equal(check.code, 0);
  assert.deepEqual(check.endpoints.map((e) => [e.name, e.verdict, e.cause, e.answered_by]), [
    ['create', 'ok', 'api_answered', 'api'],
    ['retrieve', 'ok', 'api_answered', 'api'],
    ['cancel', 'ok', 'api_answered', 'api'],
  ]);
  assert.equal(run.code, 0);
  const evidence = run.json['evidence'] as Record<string, unknown>;
  assert.equal(evidence['warning'], null);
  assert.equal(evidence['with_api_marks'], evidence['answers']);
  assert.equal(evidence['openai_version'], '2020-10-01');
  assert.deepEqual(evidence['create'], { background: true, status: 'queued', model: 'gpt-5.2', model_asked: 'gpt-5.2', model_matches: true });
  assert.doesNotMatch(run.stderr, /not the OpenAI API's background mode/i);
  assert.match(run.report, /\| Evidence \| the answers carried the OpenAI API's marks, and the create came back as a background response \|/);
  assert.match(run.report, /\| openai-version seen \| 2020-10-01 \|/);
});

test('the emulator at a base URL without /v1: wrong-server with "should end in /v1", and the run fails with the same advice', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const origin = new URL(emulator.baseUrl).origin;
  const { check, run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: origin });
  assert.equal(check.code, 1);
  for (const e of check.endpoints) {
    assert.equal(e.verdict, 'wrong-server', e.name);
    assert.equal(e.cause, 'wrong_path', e.name);
    assert.match(e.hint ?? '', /the base URL should end in \/v1: try --base-url http:\/\/127\.0\.0\.1:\d+\/v1/);
  }
  assert.equal(run.code, 1);
  assert.match(run.stderr, /HTTP 404 from the API: Invalid URL \(POST \/responses\); the base URL should end in \/v1/);
  assert.doesNotMatch(run.stderr, /egress policy|may have been created/);
  assert.equal(emulator.requests.filter((r) => r.method === 'POST' && r.path === '/responses').length, 2, 'one probe, one create: never resent');
});

/**
 * A stub that follows the spec's shapes but is not the API, as a mock generated from the
 * OpenAPI file answers: 200 to everything, a canned Response with its own id, no request id,
 * no openai-* header, a model of its choosing.
 */
function specStub(req: IncomingMessage, _body: string, res: ServerResponse): void {
  const canned = { id: 'resp_123', object: 'response', created_at: 1741476542, status: 'completed', background: false, model: 'gpt-4.1-2025-04-14', output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'In a shocking turn of events...', annotations: [] }] }] };
  void req;
  send(res, 200, JSON.stringify(canned), { 'content-type': 'application/json' });
}

test('a spec-shaped stub that is not the API: check says wrong-server and cancels what it created; the run completes but says it was not the API', async (t) => {
  const stub = await serve(t, specStub);
  const { check, run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `${stub.origin}/v1` });
  assert.equal(check.code, 1);
  const e = byName(check.endpoints);
  assert.equal(e['create']!.verdict, 'wrong-server');
  assert.equal(e['create']!.cause, 'probe_accepted');
  assert.match(e['create']!.detail, /accepted an empty create the API always refuses, and made response "resp_123"; bgprobe cancelled it .*Tokens may have been spent/);
  assert.equal(e['retrieve']!.cause, 'other_id');
  assert.equal(e['cancel']!.cause, 'other_id');
  assert.ok(stub.seen.includes('POST /v1/responses/resp_123/cancel'), 'check cancelled the response the stub made');
  // The run ends by its status, but says plainly whose answers they were.
  assert.equal(run.code, 0);
  const evidence = run.json['evidence'] as { warning: string; with_api_marks: number };
  assert.equal(evidence.with_api_marks, 0);
  assert.match(evidence.warning, /none of the 1 answers carried the OpenAI API's marks .*did not come from the OpenAI API/);
  assert.match(evidence.warning, /not a background response of the model asked for \(background: false; status completed .*; model "gpt-4\.1-2025-04-14" where "gpt-5\.2" was asked for\)/);
  // On stderr as bgprobe's own line, so --quiet keeps it too.
  assert.match(run.stderr, /^bgprobe: warning: not the OpenAI API's background mode: none of the 1 answers/m);
  const quiet = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', 'q.md'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `${stub.origin}/v1` }, tempDir(t));
  assert.equal(quiet.code, 0);
  assert.match(quiet.stderr, /^bgprobe: warning: not the OpenAI API's background mode: /m);
  assert.match(run.report, /\| Evidence \| none of the 1 answers carried the OpenAI API's marks/);
});

test('a static HTTP server: wrong-server (it does not serve these paths), and the run fails naming it', async (t) => {
  // As `python3 -m http.server` answers: 404 pages for GET, 501 for POST.
  const page = (code: number, message: string) => `<!DOCTYPE HTML><html><head><title>Error response</title></head><body><h1>Error response</h1><p>Error code: ${code}</p><p>Message: ${message}.</p></body></html>`;
  const server = await serve(t, (req, _body, res) => {
    if (req.method === 'GET') send(res, 404, page(404, 'File not found'), { 'content-type': 'text/html;charset=utf-8', server: 'SimpleHTTP/0.6 Python/3.12.3' });
    else send(res, 501, page(501, "Unsupported method ('POST')"), { 'content-type': 'text/html;charset=utf-8', server: 'SimpleHTTP/0.6 Python/3.12.3' });
  });
  const { check, run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `${server.origin}/v1` });
  assert.equal(check.code, 1);
  const e = byName(check.endpoints);
  assert.deepEqual([e['create']!.verdict, e['retrieve']!.verdict], ['wrong-server', 'wrong-server']);
  assert.equal(e['retrieve']!.cause, 'wrong_path');
  // check probed every call and none reached the API: the base URL is its first suspect, and it does not send the user back to check.
  assert.match(e['retrieve']!.hint ?? '', /^no probe reached the API at this base URL: --base-url \(or OPENAI_BASE_URL\) http:\/\/127\.0\.0\.1:\d+\/v1 does not lead to the OpenAI API/);
  assert.doesNotMatch(e['retrieve']!.hint ?? '', /bgprobe check/);
  assert.match(e['create']!.detail, /HTTP 501 from a server that is not the API: "Error response Error code: 501 Message: Unsupported method \('POST'\)\."/);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /bgprobe: create \(POST \/v1\/responses\) was answered HTTP 501 by a server that is not the OpenAI API .*"Error response Error code: 501/);
  assert.doesNotMatch(run.stderr, /blocked by a proxy|egress policy/);
});

const PORTAL = '<html><head><title>Guest Wi-Fi</title><script>var x = 1;</script></head><body><h1>Welcome</h1><p>Please accept the terms &amp; conditions to continue.</p></body></html>';

test('a transparent captive portal answering 200 with its page: blocked (a page in the API\'s place), with its words', async (t) => {
  const portal = await serve(t, (_req, _body, res) => send(res, 200, PORTAL, { 'content-type': 'text/html' }));
  const { check, run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `${portal.origin}/v1` });
  assert.equal(check.code, 1);
  for (const e of check.endpoints) {
    assert.equal(e.verdict, 'blocked', e.name);
    assert.equal(e.cause, 'non_api_page', e.name);
    assert.match(e.detail, /HTTP 200 with a web page, not the API: "Guest Wi-Fi: Welcome Please accept the terms & conditions to continue\."/);
  }
  assert.doesNotMatch(check.stdout, /var x/, 'scripts are not quoted');
  assert.equal(run.code, 1);
  assert.match(run.stderr, /answers in the API's place \(a captive portal, a login or block page\)/);
});

test('a captive-portal proxy (CONNECT accepted, then its own page): blocked, not "unreachable"', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const pages = createServer((_req, res) => send(res, 200, PORTAL, { 'content-type': 'text/html' }));
  const proxy = createServer((_req, res) => send(res, 200, PORTAL, { 'content-type': 'text/html' }));
  proxy.on('connect', (_req, socket) => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    pages.emit('connection', socket);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    pages.closeAllConnections();
    return closeHttp(proxy);
  });
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { check, run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl }, ['--proxy', proxyUrl]);
  assert.equal(check.code, 1);
  for (const e of check.endpoints) {
    assert.equal(e.verdict, 'blocked', e.name);
    assert.equal(e.answered_by, 'proxy', e.name);
  }
  assert.equal(run.code, 1);
  assert.match(run.stderr, /was answered HTTP 200 by the proxy \(an HTML page titled "Guest Wi-Fi"\), not by the API: "Guest Wi-Fi: Welcome .*"; the proxy answers in the API's place \(a captive portal or a login page\)/);
  assert.equal(emulator.requests.length, 0, 'nothing reached the API');
});

test('each test proxy: check exits 0 exactly when the run through it completes as the API\'s background mode', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const env = { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl };
  const allowing = await startConnectProxy(t, { allow: [authorityOf(emulator)] });
  const through = await checkAndRun(t, env, ['--proxy', allowing.url]);
  assert.equal(through.check.code, 0, through.check.stdout);
  assert.equal((through.run.json['evidence'] as { warning: unknown }).warning, null);

  const refusing = await startConnectProxy(t, { allow: ['api.openai.com:443'] });
  const refused = await checkAndRun(t, env, ['--proxy', refusing.url]);
  assert.deepEqual(refused.check.endpoints.map((e) => e.verdict), ['blocked', 'blocked', 'blocked']);

  const getOnly = await startInterceptingProxy(t, { ca: proxyCa, upstreamCa: apiCa.cert, allowMethods: ['GET', 'HEAD', 'OPTIONS'] });
  const methods = await checkAndRun(t, env, ['--proxy', getOnly.url, '--ca-file', proxyCa.certPath]);
  assert.deepEqual(methods.check.endpoints.map((e) => [e.verdict, e.cause]), [['blocked', 'proxy_refused'], ['ok', 'api_answered'], ['blocked', 'proxy_refused']]);
  assert.equal(methods.run.code, 1);

  const all = await startInterceptingProxy(t, { ca: proxyCa, upstreamCa: apiCa.cert, allowMethods: ['GET', 'POST'] });
  const intercepted = await checkAndRun(t, env, ['--proxy', all.url, '--ca-file', proxyCa.certPath]);
  assert.equal(intercepted.check.code, 0, intercepted.check.stdout);
});

/**
 * A gateway in front of the emulator on the base URL's own address (no proxy configured): it
 * refuses the calls `refuses` picks with its own bare `status` (403 by default) and passes the rest to the API.
 */
async function filteringGateway(t: TestContext, refuses: (method: string, path: string) => boolean, status = 403): Promise<string> {
  const emulator = await emulatorFor(t, FAST);
  const upstream = new URL(emulator.baseUrl);
  const gateway = createServer((req, res) => {
    if (refuses(req.method ?? '', req.url ?? '')) {
      req.resume();
      send(res, status, `${STATUS_CODES[status]}\n`, { 'content-type': 'text/plain' });
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  t.after(() => closeHttp(gateway));
  return `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/v1`;
}

/** The run's `bgprobe:` line: its diagnosis, without the report and summary around it. */
function errorLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('bgprobe: ')) ?? '';
}

test('a base URL that refuses POST with a bare 403 while its GET answers carry the API\'s marks: check says blocked in between, and the run does not call the base URL wrong', async (t) => {
  const baseUrl = await filteringGateway(t, (method) => method === 'POST');
  const { check, run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl });
  const e = byName(check.endpoints);
  assert.deepEqual([e['create']!.verdict, e['create']!.cause], ['blocked', 'refused_in_between']);
  assert.deepEqual([e['retrieve']!.verdict, e['retrieve']!.answered_by], ['ok', 'api']);
  assert.equal(run.code, 1);
  // The run saw only the refused create: both explanations, check's among them, and no verdict between them.
  const line = errorLine(run.stderr);
  assert.match(line, /create \(POST \/v1\/responses\) was answered HTTP 403 by a server that is not the OpenAI API .*"Forbidden"; either --base-url \(or OPENAI_BASE_URL\) http:\/\/127\.0\.0\.1:\d+\/v1 does not lead to the OpenAI API or a server that speaks it, or something between this machine and 127\.0\.0\.1:\d+ refuses POST \/v1\/responses: `bgprobe check` tells which$/);
  assert.match(run.report, /either --base-url .* or something between this machine and .* refuses POST \/v1\/responses/);
});

test('a base URL that refuses GET with a bare 403 after the API itself answered the create: check says blocked in between, and so does the run', async (t) => {
  const baseUrl = await filteringGateway(t, (method) => method === 'GET');
  const { check, run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl });
  const e = byName(check.endpoints);
  assert.deepEqual([e['create']!.verdict, e['create']!.answered_by], ['ok', 'api']);
  assert.deepEqual([e['retrieve']!.verdict, e['retrieve']!.cause], ['blocked', 'refused_in_between']);
  assert.equal(run.code, 1);
  const line = errorLine(run.stderr);
  assert.match(line, /retrieve \(GET \/v1\/responses\/resp_\w+\) was answered HTTP 403 by something in between, not the API .*"Forbidden"; the API itself answered create on this base URL, so a filter between this machine and the API refuses GET \/v1\/responses\/\{response_id\}: the egress policy must allow GET/);
  assert.doesNotMatch(line, /does not lead to the OpenAI API|a server that is not the OpenAI API/);
});

test('a 200 that is not JSON answering GET after the API itself answered the create: the run blames what stands in between, not the base URL', async (t) => {
  const baseUrl = await filteringGateway(t, (method) => method === 'GET', 200);
  const { run } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl });
  assert.equal(run.code, 1);
  const line = errorLine(run.stderr);
  assert.match(line, /^bgprobe: GET \/v1\/responses\/resp_\w+ answered HTTP 200 with content type text\/plain, not JSON; .*"OK"; the API itself answered create on this base URL, so something between this machine and the API answers GET \/v1\/responses\/\{response_id\} in its place; response resp_\w+ may still be running/);
  assert.doesNotMatch(line, /does not lead to the OpenAI API|check --base-url/);
});

test('a gateway that refuses only POST /v1/responses while the cancel (POST too) reaches the API: blocked in between, and no method limit named', async (t) => {
  const baseUrl = await filteringGateway(t, (method, path) => method === 'POST' && path === '/v1/responses');
  const { check } = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl });
  assert.deepEqual(check.endpoints.map((x) => [x.name, x.verdict, x.answered_by]), [['create', 'blocked', 'other'], ['retrieve', 'ok', 'api'], ['cancel', 'ok', 'api']]);
  assert.equal((JSON.parse(check.stdout) as { control: unknown }).control, null);
});

test('a gateway whose bare 404 or 503 answers POST while GET reaches the API: check says something in between, not a wrong server, and the run names both causes', async (t) => {
  const notFound = await filteringGateway(t, (method) => method === 'POST', 404);
  const refused = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: notFound });
  assert.deepEqual([byName(refused.check.endpoints)['create']!.verdict, byName(refused.check.endpoints)['create']!.cause], ['blocked', 'refused_in_between']);
  assert.match(errorLine(refused.run.stderr), /HTTP 404 .*"Not Found"; either --base-url .* or something between this machine and 127\.0\.0\.1:\d+ refuses POST \/v1\/responses: `bgprobe check` tells which$/);

  const unavailable = await filteringGateway(t, (method) => method === 'POST', 503);
  const failed = await checkAndRun(t, { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: unavailable });
  const create = byName(failed.check.endpoints)['create']!;
  assert.deepEqual([create.verdict, create.cause, create.answered_by], ['unreachable', 'gateway_error', 'other']);
  assert.match(create.detail, /^HTTP 503 from something in between, not the API \(the API itself answered retrieve on this base URL\)/);
  assert.match(errorLine(failed.run.stderr), /HTTP 503 by a server that is not the OpenAI API .*if a gateway stands in front of 127\.0\.0\.1:\d+, it could not reach the API; else/);
});

/** Closes a test's HTTP server, its open connections first. */
function closeHttp(server: import('node:http').Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
