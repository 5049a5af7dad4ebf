import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { emulatorFor, runMain, singleJsonObject, startCli, tempDir, TEST_KEY } from './helpers.js';

/*
 * Real HTTP intermediaries on loopback between bgprobe and the emulator, each standing for what
 * sandbox proxies do to text/event-stream: one holds the whole answer back until it ends (a
 * buffering proxy or gateway), one cuts every connection at the same age.
 */

type Relay = (upstream: IncomingMessage, res: ServerResponse) => void;

/** A reverse proxy on loopback that forwards every request to `target` and hands the answer to `relay`. */
async function reverseProxy(t: TestContext, target: string, relay: Relay): Promise<string> {
  const upstreamUrl = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const forward = request(
      { host: upstreamUrl.hostname, port: upstreamUrl.port, method: req.method, path: req.url, headers: req.headers },
      (upstream) => relay(upstream, res),
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

/** Holds the whole answer back, headers included, and sends it when the upstream ends. */
const buffering: Relay = (upstream, res) => {
  const chunks: Buffer[] = [];
  upstream.on('data', (chunk: Buffer) => chunks.push(chunk));
  upstream.on('end', () => {
    const { 'transfer-encoding': _, ...headers } = upstream.headers;
    res.writeHead(upstream.statusCode ?? 502, { ...headers, 'content-length': Buffer.concat(chunks).length });
    res.end(Buffer.concat(chunks));
  });
};

/** Passes the answer through as it comes, but cuts every connection `ageMs` after its answer began. */
function cuttingAt(ageMs: number): Relay {
  return (upstream, res) => {
    res.writeHead(upstream.statusCode ?? 502, upstream.headers);
    upstream.pipe(res);
    const timer = setTimeout(() => {
      upstream.destroy();
      res.socket?.destroy();
    }, ageMs);
    res.on('close', () => clearTimeout(timer));
  };
}

test('through a proxy that buffers the stream, run --stream still completes and says plainly that something buffers server-sent events', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 300, inProgressMs: 2500 });
  const baseUrl = await reverseProxy(t, emulator.baseUrl, buffering);
  const run = await runMain(['run', '--stream', '--json', '--output', 'r.md'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl }, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  const stream = singleJsonObject(run.stdout)['stream'] as Record<string, unknown>;
  assert.equal(stream['delivery'], 'buffered');
  assert.ok((stream['time_to_first_event_seconds'] as number) >= 2);
  assert.ok((stream['arrival_spread_seconds'] as number) < 0.5);
  assert.match(String(stream['finding']), /buffers server-sent events \(text\/event-stream\) until the response ends/);
  assert.match(run.stderr, /WARN .*arrived in one burst at the end/);
});

test('through a proxy that cuts every stream at the same age, run --stream resumes each time, completes, and names the cut', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 200, inProgressMs: 5600 });
  const baseUrl = await reverseProxy(t, emulator.baseUrl, cuttingAt(2000));
  const run = await runMain(['run', '--stream', '--json', '--output', 'r.md', '--max-retries', '8'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl }, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  const summary = singleJsonObject(run.stdout);
  assert.equal(summary['status'], 'completed');
  const stream = summary['stream'] as Record<string, unknown>;
  assert.ok((stream['gaps'] as unknown[]).length >= 2, JSON.stringify(stream));
  for (const gap of stream['gaps'] as { missing: number }[]) assert.equal(gap.missing, 0);
  assert.equal(stream['delivery'], 'cut');
  assert.match(String(stream['finding']), /cut \d+ times, each after about 2\.\d s open/);
  const resumes = emulator.requests.filter((r) => r.method === 'GET').map((r) => r.query);
  for (const query of resumes) assert.match(query, /^stream=true&starting_after=\d+$/);
});

/**
 * An API that sends response.created at once and the next event only after a while: the moment
 * at which a client that leaves has left responses queued for many minutes.
 */
async function slowAfterCreated(t: TestContext, nextAfterMs: number, createdAfterMs = 0) {
  const log: { event: string; at: number }[] = [];
  const response = { id: 'resp_slow1', object: 'response', status: 'queued', background: true, model: 'gpt-5.2', output: [], created_at: 1 };
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ...response, status: 'in_progress' }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const created = setTimeout(() => {
      log.push({ event: 'created sent', at: Date.now() });
      res.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response })}\n\n`);
    }, createdAfterMs);
    const timer = setTimeout(() => {
      log.push({ event: 'queued sent', at: Date.now() });
      res.write(`event: response.queued\ndata: ${JSON.stringify({ type: 'response.queued', sequence_number: 1, response })}\n\n`);
    }, createdAfterMs + nextAfterMs);
    res.on('close', () => {
      clearTimeout(created);
      clearTimeout(timer);
      log.push({ event: 'client closed', at: Date.now() });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, log };
}

test('interrupted right after response.created, bgprobe waits for the next event before closing the stream, and says why', async (t) => {
  const api = await slowAfterCreated(t, 1500);
  const cli = startCli(['run', '--stream', '--output', 'r.md'], { cwd: tempDir(t), env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: api.baseUrl } });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Created response resp_slow1/);
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /Stopping right after response\.created: waiting up to 10 s for the next event before closing the stream, because a stream closed at that moment has left responses queued/);
  assert.match(result.stderr, /Event 1 \(response\.queued\) arrived; closing the stream/);
  assert.match(result.stderr, /resume with "bgprobe poll resp_slow1 --base-url http:\/\/127\.0\.0\.1:\d+\/v1"/);
  const sent = api.log.find((e) => e.event === 'queued sent');
  const closed = api.log.find((e) => e.event === 'client closed');
  assert.ok(sent && closed && closed.at >= sent.at, JSON.stringify(api.log));
});

test('interrupted during the streamed create, bgprobe still learns the id, waits for the event after response.created, then stops with the resume command', async (t) => {
  const api = await slowAfterCreated(t, 1500, 1000);
  const cli = startCli(['run', '--stream', '--output', 'r.md'], { cwd: tempDir(t), env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: api.baseUrl } });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Submitting the background response with stream: true/);
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /Created response resp_slow1/);
  assert.match(result.stderr, /Stopping right after response\.created: waiting up to 10 s/);
  assert.match(result.stderr, /Event 1 \(response\.queued\) arrived; closing the stream/);
  assert.match(result.stderr, /interrupted by SIGINT; response resp_slow1 is still running: resume with "bgprobe poll resp_slow1 --base-url http:\/\/127\.0\.0\.1:\d+\/v1"/);
  const sent = api.log.find((e) => e.event === 'queued sent');
  const closed = api.log.find((e) => e.event === 'client closed');
  assert.ok(sent && closed && closed.at >= sent.at, JSON.stringify(api.log));
});

/** Passes JSON through, but of an event stream sends the headers only and holds every byte of its body back. */
const holdingBody: Relay = (upstream, res) => {
  res.writeHead(upstream.statusCode ?? 502, upstream.headers);
  if (!String(upstream.headers['content-type']).startsWith('text/event-stream')) return void upstream.pipe(res);
  res.flushHeaders();
  upstream.resume();
};

test('poll --stream through a proxy that holds the body back: silent past --timeout while the server finished, it is called held back', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 200, inProgressMs: 800 });
  const res = await fetch(`${emulator.baseUrl}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5.2', input: 'made elsewhere', background: true, stream: true }),
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!/"id":"(resp_\w+)"/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  const id = /"id":"(resp_\w+)"/.exec(text)?.[1] as string;
  const baseUrl = await reverseProxy(t, emulator.baseUrl, holdingBody);
  const run = await runMain(['poll', id, '--stream', '--json', '--timeout', '7'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl }, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /gave no first event .*; retrieving its status/);
  const stream = singleJsonObject(run.stdout)['stream'] as Record<string, unknown>;
  assert.equal(stream['delivery'], 'buffered', JSON.stringify(stream));
  assert.match(String(stream['finding']), /No event arrived for [\d.]+ s while the server finished the response/);
});
