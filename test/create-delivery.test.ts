import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runMain, tempDir, TEST_KEY } from './helpers.js';
import { afterCreate, answer, scriptedServer } from './scripted-server.js';

/*
 * What a failed create may claim follows what was delivered, as undici really reports it over
 * real loopback sockets: not written (TLS never completed, reset before the request) means
 * nothing was created and the create is sent again; written and then cut off means a response
 * may exist, with the Idempotency-Key, and it is never sent again.
 */

const RUN = ['run', '--json', '--poll-interval', '0.05', '--output', 'r.md'];

/** A TCP listener that does `onSocket` to every connection, counting them. */
async function rawListener(t: TestContext, onSocket: (socket: Socket) => void): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return { port: (server.address() as AddressInfo).port, accepted: () => accepted };
}

function finalStatus(dir: string): string {
  return readFileSync(join(dir, 'r.md'), 'utf8').split('## Final Status')[1] ?? '';
}

test('a create whose TLS handshake never completes was never sent: it is retried, and nothing "may have been created"', async (t) => {
  const silent = await rawListener(t, () => {});
  const dir = tempDir(t);
  // The listener never answers, so --timeout can be short: the silence outlasts any value.
  const result = await runMain([...RUN, '--timeout', '0.5', '--max-retries', '1'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `https://127.0.0.1:${silent.port}/v1` }, dir);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(silent.accepted(), 2, 'sent again after the first attempt, as an undelivered request');
  assert.match(result.stderr, /Retry 1\/1 in .* the request was never sent/);
  assert.doesNotMatch(result.stderr, /may have been created/);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /^bgprobe: POST \/v1\/responses: the connection to 127\.0\.0\.1:\d+ did not complete within --timeout; the request was never sent$/);
  const summary = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(summary['create_may_exist'], null);
  assert.match(finalStatus(dir), /\(none: no response was created\)/);
});

test('a connection reset during the TLS handshake was never sent either: retried', async (t) => {
  const resetting = await rawListener(t, (socket) => socket.once('data', () => socket.resetAndDestroy()));
  const dir = tempDir(t);
  const result = await runMain([...RUN, '--timeout', '5', '--max-retries', '1'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `https://127.0.0.1:${resetting.port}/v1` }, dir);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(resetting.accepted(), 2);
  assert.match(result.stderr, /failed before the request was sent \(ECONNRESET/);
  assert.doesNotMatch(result.stderr, /may have been created/);
});

async function assertMayExist(t: TestContext, baseUrl: string, seen: () => number, cause: RegExp): Promise<void> {
  const dir = tempDir(t);
  const result = await runMain([...RUN, '--timeout', '5'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl }, dir);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(seen(), 1, 'never sent again');
  const line = result.stderr.trim().split('\n').at(-1)!;
  assert.match(line, cause);
  assert.match(line, /A background response may have been created anyway.*Idempotency-Key (bgprobe-[0-9a-f-]{36})/);
  const key = /Idempotency-Key (bgprobe-[0-9a-f-]{36})\)/.exec(line)![1]!;
  const summary = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.deepEqual(summary['create_may_exist'], { idempotency_key: key });
  assert.match(String(summary['error']), /may have been created/);
  // The report's Final Status says what its event log says.
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.ok(report.includes(`[ERROR]`) && report.includes(key), 'the event log names the key');
  assert.ok(finalStatus(dir).includes(`(not known: a response may have been created; the create carried Idempotency-Key ${key})`), finalStatus(dir));
  assert.doesNotMatch(report, /no response was created/);
}

/** An HTTP server that reads each request whole, then resets the connection: the request was delivered. */
async function resettingAfterRead(t: TestContext): Promise<{ baseUrl: string; requests: () => number }> {
  let requests = 0;
  const server = createHttpServer((req, _res) => {
    requests += 1;
    req.resume();
    req.on('end', () => req.socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => closeHttp(server));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests: () => requests };
}

test('a create reset after the server read it may have created a response: said with the key, never resent', async (t) => {
  const server = await resettingAfterRead(t);
  await assertMayExist(t, server.baseUrl, server.requests, /^bgprobe: POST \/v1\/responses: the connection to 127\.0\.0\.1:\d+ failed \((ECONNRESET|UND_ERR_SOCKET)/);
});

test('a create answered 200 whose body is cut off may have created a response: never "other side closed" alone, never "no response was created"', async (t) => {
  let requests = 0;
  const server = createHttpServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400', 'x-request-id': 'req_0123456789abcdef0123456789abcdef' });
      res.write('{"id":"resp_cut","object":"response","status":"que');
      setTimeout(() => res.socket?.destroy(), 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => closeHttp(server));
  await assertMayExist(t, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, () => requests, /^bgprobe: POST \/v1\/responses answered HTTP 200 but its body was cut off: /);
});

test("a create answered 503 by a gateway (server: envoy, no API marks) is not resent: the API may have it", async (t) => {
  const server = await scriptedServer(t, (_req, res) => answer(res, 503, 'upstream connect error or disconnect/reset before headers', { 'content-type': 'text/plain', server: 'envoy' }));
  await assertMayExist(t, server.baseUrl, () => server.requests.length, /got HTTP 503 from a proxy \(server: envoy\), not from the API: "upstream connect error/);
});

test('a poll answered 520-524 by Cloudflare in front of the API is retried, and the run completes', async (t) => {
  const completed = { id: 'resp_scripted_fault_case_00000001', object: 'response', status: 'completed', background: true, model: 'gpt-5.2', output: [] };
  const server = await scriptedServer(
    t,
    afterCreate((_req, res, index) => {
      const status = [520, 521, 522, 523, 524][index - 1];
      if (status !== undefined) answer(res, status, `<html><title>${status}: Origin error</title></html>`, { 'content-type': 'text/html', server: 'cloudflare', 'retry-after': '0.01' });
      else answer(res, 200, JSON.stringify(completed), { 'content-type': 'application/json', 'x-request-id': 'req_scripted' });
    }),
  );
  const dir = tempDir(t);
  const result = await runMain([...RUN, '--max-retries', '5'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl }, dir);
  assert.equal(result.code, 0, result.stderr);
  for (const status of [520, 521, 522, 523, 524]) assert.match(result.stderr, new RegExp(`Retry \\d/5 in .* HTTP ${status}`));
  assert.equal(server.requests.filter((r) => r.startsWith('GET')).length, 6);
});

test('cancel: a 404 from a server that is not the API is not "no response is known"', async (t) => {
  const server = await scriptedServer(t, (_req, res) => answer(res, 404, JSON.stringify({ message: 'route not found' }), { 'content-type': 'application/json' }));
  const result = await runMain(['cancel', 'resp_abc'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl }, tempDir(t));
  assert.equal(result.code, 1);
  assert.doesNotMatch(result.stderr, /no response .* is known/);
  assert.match(result.stderr, /^bgprobe: retrieve \(GET \/v1\/responses\/resp_abc\) was answered HTTP 404 by a server that is not the OpenAI API \(an application\/json body without the API's envelope or headers\): "\{"message":"route not found"\}"/m);
});

/** Closes a test's HTTP server, its open connections first. */
function closeHttp(server: import('node:http').Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

// Stream mode sends its create through the same client rules: what it may claim follows what was written.
test('--stream: a create whose TLS handshake never completes was never sent: retried, and nothing "may have been created"', async (t) => {
  const silent = await rawListener(t, () => {});
  const dir = tempDir(t);
  const result = await runMain([...RUN, '--stream', '--timeout', '0.5', '--max-retries', '1'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `https://127.0.0.1:${silent.port}/v1` }, dir);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(silent.accepted(), 2, 'sent again after the first attempt, as an undelivered request');
  assert.doesNotMatch(result.stderr, /may have been created/);
  assert.equal((JSON.parse(result.stdout) as Record<string, unknown>)['create_may_exist'], null);
  assert.match(finalStatus(dir), /\(none: no response was created\)/);
});

test('--stream: a create reset after the server read it may have created a response: said with the key, never resent', async (t) => {
  const server = await resettingAfterRead(t);
  const dir = tempDir(t);
  const result = await runMain([...RUN, '--stream', '--timeout', '5'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl }, dir);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(server.requests(), 1, 'never sent again');
  const key = /Idempotency-Key (bgprobe-[0-9a-f-]{36})/.exec(result.stderr.trim().split('\n').at(-1)!)?.[1];
  assert.ok(key, result.stderr);
  assert.match(result.stderr, /may have been created/);
  assert.deepEqual((JSON.parse(result.stdout) as Record<string, unknown>)['create_may_exist'], { idempotency_key: key });
  assert.ok(finalStatus(dir).includes(`Idempotency-Key ${key}`), finalStatus(dir));
});
