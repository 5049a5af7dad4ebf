import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestMayHaveActed, DEFAULT_RETRY_POLICY, isRetryable, retryAfterMs, retryDelayMs } from '../src/api/retry.js';
import { ApiError, NetworkError, ProtocolError, type ApiErrorBody } from '../src/errors.js';
import { parseFaults } from '../src/emulator/faults.js';

const NOW = new Date('2026-11-26T10:00:00Z');

function apiError(status: number, headers: Record<string, string> = {}, apiErr?: Partial<ApiErrorBody>, answeredBy: 'api' | 'proxy' | 'other' = 'api'): ApiError {
  return new ApiError({
    answeredBy,
    method: 'GET',
    path: '/v1/responses/resp_1',
    status,
    requestId: undefined,
    apiError: apiErr ? { message: 'm', type: null, param: null, code: null, ...apiErr } : undefined,
    contentType: 'application/json',
    bodySnippet: undefined,
    headers,
  });
}

function networkError(stage: 'connect' | 'dns' | 'socket' | 'timeout' | 'tls', maybeDelivered: boolean, code: string): NetworkError {
  return new NetworkError(`failed (${code})`, stage, maybeDelivered, { cause: Object.assign(new Error(code), { code }) });
}

test('Retry-After is read as retry-after-ms, seconds or an HTTP date', () => {
  const cases: [Record<string, string>, number | undefined][] = [
    [{ 'retry-after-ms': '150' }, 150],
    [{ 'retry-after-ms': '150', 'retry-after': '9' }, 150],
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after': 'Thu, 26 Nov 2026 10:00:03 GMT' }, 3000],
    [{ 'retry-after': 'Thu, 26 Nov 2026 09:59:00 GMT' }, 0],
    [{ 'retry-after': 'soon' }, undefined],
    [{ 'retry-after-ms': 'abc' }, undefined],
    [{}, undefined],
  ];
  for (const [headers, expected] of cases) assert.equal(retryAfterMs(headers, NOW), expected, JSON.stringify(headers));
});

test('backoff doubles from 0.5 s to a cap of 8 s, with jitter between 75 % and 100 %', () => {
  const noJitter = () => 0;
  const fullJitter = () => 1;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, new Error('x'), DEFAULT_RETRY_POLICY, NOW, noJitter)), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
  assert.equal(retryDelayMs(1, new Error('x'), DEFAULT_RETRY_POLICY, NOW, fullJitter), 375);
  assert.equal(retryDelayMs(5, new Error('x'), DEFAULT_RETRY_POLICY, NOW, fullJitter), 6000);
});

test("a server's Retry-After wins over backoff, up to the cap", () => {
  assert.equal(retryDelayMs(4, apiError(429, { 'retry-after': '1' }), DEFAULT_RETRY_POLICY, NOW), 1000);
  assert.equal(retryDelayMs(1, apiError(503, { 'retry-after': '3600' }), DEFAULT_RETRY_POLICY, NOW), DEFAULT_RETRY_POLICY.maxRetryAfterMs);
});

test('which failures are retried, for a poll and for a create', () => {
  const cases: [string, unknown, boolean, boolean][] = [
    // name, error, poll retried, create retried
    ['408', apiError(408), true, false],
    ['409', apiError(409), true, false],
    ['429 rate limit', apiError(429, {}, { type: 'requests', code: 'rate_limit_exceeded' }), true, true],
    ['429 insufficient_quota', apiError(429, {}, { type: 'insufficient_quota', code: 'insufficient_quota' }), false, false],
    ['500', apiError(500), true, false],
    ['502', apiError(502), true, false],
    ['503', apiError(503), true, true],
    ['504', apiError(504), true, false],
    ['503 from a gateway (server: envoy)', apiError(503, { server: 'envoy' }, undefined, 'proxy'), true, false],
    ['429 from a server that is not the API', apiError(429, {}, undefined, 'other'), true, false],
    ...[520, 521, 522, 523, 524, 599].map((status): [string, unknown, boolean, boolean] => [`${status} (Cloudflare before the API)`, apiError(status, {}, undefined, 'other'), true, false]),
    ['400', apiError(400), false, false],
    ['401', apiError(401), false, false],
    ['403', apiError(403), false, false],
    ['404', apiError(404), false, false],
    ['503 with x-should-retry: false', apiError(503, { 'x-should-retry': 'false' }), false, false],
    ['connection refused', networkError('connect', false, 'ECONNREFUSED'), true, true],
    ['temporary DNS failure', networkError('dns', false, 'EAI_AGAIN'), true, true],
    ['unknown host', networkError('dns', false, 'ENOTFOUND'), false, false],
    ['reset after sending', networkError('socket', true, 'ECONNRESET'), true, false],
    ['answer timeout', networkError('timeout', true, 'UND_ERR_HEADERS_TIMEOUT'), true, false],
    ['TLS trust', networkError('tls', false, 'SELF_SIGNED_CERT_IN_CHAIN'), false, false],
    ['protocol error', new ProtocolError('not JSON'), false, false],
  ];
  for (const [name, error, poll, create] of cases) {
    assert.equal(isRetryable('retrieve', error), poll, `poll: ${name}`);
    assert.equal(isRetryable('create', error), create, `create: ${name}`);
  }
});

test('a create failure may have started a job only when the request may have reached the API', () => {
  assert.equal(requestMayHaveActed(networkError('socket', true, 'ECONNRESET')), true);
  assert.equal(requestMayHaveActed(networkError('connect', false, 'ECONNREFUSED')), false);
  assert.equal(requestMayHaveActed(apiError(500)), true);
  assert.equal(requestMayHaveActed(apiError(504)), true);
  assert.equal(requestMayHaveActed(apiError(503)), false);
  assert.equal(requestMayHaveActed(apiError(429)), false);
  assert.equal(requestMayHaveActed(apiError(503, { server: 'envoy' }, undefined, 'proxy')), true, "a gateway's 503 may come after the API got the request");
  assert.equal(requestMayHaveActed(apiError(429, {}, undefined, 'other')), true);
  assert.equal(requestMayHaveActed(apiError(404, {}, undefined, 'other')), false);
  assert.equal(requestMayHaveActed(networkError('connect', false, 'ECONNRESET')), false, 'reset before the request was written');
  assert.equal(requestMayHaveActed(apiError(400)), false);
  assert.equal(requestMayHaveActed(new ProtocolError('HTML')), true);
});

test('emulator fault specs parse, and bad ones say what is wrong', () => {
  assert.deepEqual(parseFaults('poll2=drop, poll3+=503:retry-after=1,create1=429:quota,poll4=slow:250,poll5=status:expired'), [
    { call: 'poll', nth: 2, andLater: false, action: { kind: 'drop' } },
    { call: 'poll', nth: 3, andLater: true, action: { kind: 'status', status: 503, retryAfter: '1' } },
    { call: 'create', nth: 1, andLater: false, action: { kind: 'status', status: 429, quota: true } },
    { call: 'poll', nth: 4, andLater: false, action: { kind: 'slow', delayMs: 250 } },
    { call: 'poll', nth: 5, andLater: false, action: { kind: 'set-status', status: 'expired' } },
  ]);
  for (const bad of ['poll0=drop', 'get1=drop', 'poll1=explode', 'poll1=slow', 'poll1=503:retry-after', 'poll1']) {
    assert.throws(() => parseFaults(bad), /fault .* syntax/, bad);
  }
});
