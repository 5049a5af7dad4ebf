import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toNetworkError } from '../src/api/transport-errors.js';
import { answerWords, baseUrlAdvice, notFromApi, whoAnswered } from '../src/egress/answer-origin.js';
import { NetworkError } from '../src/errors.js';
import { isModelOrSnapshot } from '../src/job/evidence.js';

const CALL = { name: 'create', method: 'POST', path: '/v1/responses', route: '/v1/responses', host: 'api.openai.com', baseUrl: 'https://api.openai.com/v1' };

test("an answer's own words: the API's message, a page's text without scripts, capped to one line", () => {
  const envelope = JSON.stringify({ error: { message: 'Missing required parameter: \'model\'.', type: 'invalid_request_error', param: 'model', code: 'missing_required_parameter' } });
  assert.equal(answerWords(envelope, 'application/json'), "Missing required parameter: 'model'.");
  const page = '<html><head><title>Blocked</title><style>p{color:red}</style><script>alert(1)</script></head><body><p>Site &amp; category\n  not allowed</p></body></html>';
  assert.equal(answerWords(page, 'text/html; charset=utf-8'), 'Blocked: Site & category not allowed');
  assert.equal(answerWords('line one\r\nline two\u001b[2J', 'text/plain'), 'line one line two [2J');
  const long = answerWords('x'.repeat(5000), 'text/plain');
  assert.equal(long.length, 163);
  assert.ok(long.endsWith('...'));
  assert.equal(answerWords('', undefined), '(empty body)');
});

test('the fix fits who answered: a wrong base path, a page in between, a proxy', () => {
  assert.match(baseUrlAdvice({ ...CALL, baseUrl: 'http://127.0.0.1:8787/' }), /^the base URL should end in \/v1: try --base-url http:\/\/127\.0\.0\.1:8787\/v1 /);
  assert.match(baseUrlAdvice({ ...CALL, baseUrl: 'https://gw.example/openai' }), /try --base-url https:\/\/gw\.example\/openai\/v1 /);
  assert.match(baseUrlAdvice(CALL), /does not lead to the OpenAI API/);
  const other = whoAnswered(404, { 'content-type': 'text/plain' }, 'route not found');
  const line = notFromApi({ ...CALL, baseUrl: 'http://127.0.0.1:8787' }, 404, other, 'route not found', false);
  // One unmarked answer cannot tell a wrong base URL from a filter on the way: both, and where to learn which.
  assert.match(line, /answered HTTP 404 by a server that is not the OpenAI API \(a text\/plain body without the API's envelope or headers\): "route not found"; either the base URL is wrong \(it should end in \/v1: try --base-url http:\/\/127\.0\.0\.1:8787\/v1 .*\), or something between this machine and api\.openai\.com refuses POST \/v1\/responses: `bgprobe check` tells which$/);
  assert.doesNotMatch(line, /egress policy|proxy/);
  // Once the API itself answered on this base URL, the unmarked answer came from something in between.
  const proven = notFromApi({ ...CALL, apiAnswered: 'create' }, 403, other, 'Forbidden', false);
  assert.match(proven, /answered HTTP 403 by something in between, not the API .*; the API itself answered create on this base URL, so a filter between this machine and the API refuses POST \/v1\/responses: the egress policy must allow/);
  assert.doesNotMatch(proven, /base URL is wrong|does not lead/);
  const proxy = whoAnswered(403, { 'x-proxy-error': 'blocked-by-allowlist' }, 'denied');
  assert.match(notFromApi(CALL, 403, proxy, 'denied', false), /blocked by a proxy, HTTP 403 \(x-proxy-error: blocked-by-allowlist\).*egress policy must allow POST \/v1\/responses on api\.openai\.com; the proxy said: "denied"$/);
});

test('a failure before undici wrote the request delivered nothing, whatever its code; after it, it may have', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  const before = toNetworkError(reset, 'POST /v1/responses', 'api.openai.com', false);
  assert.equal(before.maybeDelivered, false);
  assert.equal(before.stage, 'connect');
  assert.match(before.message, /failed before the request was sent \(ECONNRESET: read ECONNRESET\)/);
  assert.equal(toNetworkError(reset, 'POST /v1/responses', 'api.openai.com', true).maybeDelivered, true);
  const deadline = new NetworkError('POST /v1/responses: no complete answer within 5 s (--timeout)', 'timeout', true);
  const unsent = toNetworkError(deadline, 'POST /v1/responses', 'api.openai.com', false);
  assert.equal(unsent.maybeDelivered, false);
  assert.match(unsent.message, /the request was never sent/);
  assert.equal(toNetworkError(deadline, 'POST /v1/responses', 'api.openai.com', true), deadline);
});

test('the model asked for, or a dated snapshot of it', () => {
  assert.equal(isModelOrSnapshot('gpt-5.2', 'gpt-5.2'), true);
  assert.equal(isModelOrSnapshot('gpt-5.2-2025-12-11', 'gpt-5.2'), true);
  assert.equal(isModelOrSnapshot('gpt-5.2-pro', 'gpt-5.2'), false);
  assert.equal(isModelOrSnapshot('gpt-4.1-2025-04-14', 'gpt-5.2'), false);
});

test("a proxy's 407 to the API's call gets the advice a 407 to CONNECT gets: the scheme, missing or rejected credentials", () => {
  const PROXIED = { ...CALL, httpProxy: true };
  const ntlm = { 'proxy-authenticate': 'NTLM, Negotiate' };
  const line = notFromApi(PROXIED, 407, whoAnswered(407, ntlm, ''), '(empty body)', false, ntlm);
  assert.match(line, /HTTP 407 .*it asks for NTLM, Negotiate .*which credentials in a proxy URL cannot satisfy.*px or cntlm/);
  const basic = { 'proxy-authenticate': 'Basic realm="corp"' };
  assert.match(notFromApi(PROXIED, 407, whoAnswered(407, basic, ''), '(empty body)', false, basic), /wants credentials and it asks for Basic .*put them in the proxy URL/);
  assert.match(notFromApi({ ...PROXIED, proxyCredentials: true }, 407, whoAnswered(407, basic, ''), '(empty body)', false, basic), /rejected the credentials in the proxy URL/);
});

test('a 407 with no HTTP proxy in use names no proxy of the user\'s: what asked, and how to name that proxy or fix the base URL', () => {
  const basic = { 'proxy-authenticate': 'Basic realm="corp"' };
  const line = notFromApi(CALL, 407, whoAnswered(407, basic, ''), '(empty body)', false, basic);
  assert.match(line, /^create \(POST \/v1\/responses\) was answered HTTP 407 \(proxy-authenticate: Basic realm="corp"\) with no HTTP proxy in use, not by the API/);
  assert.match(line, /a transparent proxy\) or the server at the base URL wants them; it asks for Basic .*configure that proxy explicitly.*--proxy http:\/\/user:password@host:port, or HTTPS_PROXY.*or check --base-url \(now https:\/\/api\.openai\.com\/v1\)/);
  assert.doesNotMatch(line, /in the proxy URL|rejected the credentials|the proxy wants/);
  const ntlm = { 'proxy-authenticate': 'NTLM' };
  assert.match(notFromApi({ ...CALL, baseUrl: 'http://gw.example/v1' }, 407, whoAnswered(407, ntlm, ''), '(empty body)', false, ntlm), /it asks for NTLM .*cannot satisfy: run a local authenticating proxy such as px or cntlm .*--proxy or HTTP_PROXY/);
});
