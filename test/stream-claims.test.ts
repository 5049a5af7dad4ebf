import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { emulatorFor, envFor, runMain, singleJsonObject, tempDir, TEST_KEY } from './helpers.js';
import { reverseProxy, type Relay } from './reverse-proxy.js';
import { answer, CREATED_ID, scriptedServer } from './scripted-server.js';
import { streamRun } from './stream-run.js';

/* Stream mode's claims about the path, each against an observation that is not what the claim names. */

test('a streamed create answered 503 first and retried 3 s later, then streamed live at once, is not called buffered', async (t) => {
  // The wait before the first event includes the failed attempt and the Retry-After pause: bgprobe's
  // own retry, not a proxy holding events back. The answering attempt's stream was live from its start.
  const { emulator, run, stream } = await streamRun(t, { queuedMs: 50, inProgressMs: 100, faults: parseFaults('stream1=503:retry-after=3') });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(emulator.requests.filter((r) => r.method === 'POST').length, 2);
  assert.notEqual(stream['delivery'], 'buffered', JSON.stringify(stream));
  assert.equal(stream['finding'], null);
  assert.doesNotMatch(run.stderr, /buffers server-sent events/);
});

/** A server whose clock is 30 s behind bgprobe's: it stamps created_at, completed_at and Date by it. */
const SKEW_SECONDS = 30;
const serverSeconds = () => Math.floor(Date.now() / 1000) - SKEW_SECONDS;

test('a stream silent while the response thinks, which completes just after the silent stream is closed, is not called held back when the server clock runs behind', async (t) => {
  // The resumed stream is silent because the response is (it thinks); the response completes in the
  // moment between bgprobe closing the silent stream and its retrieve. A server whose clock runs 30 s
  // behind then stamps completed_at 30 s "before" bgprobe's close by bgprobe's clock: no evidence of
  // anything holding events back. Only the server's own clock (its Date header) can place completed_at.
  let retrieves = 0;
  const object = (status: string) => ({ id: CREATED_ID, object: 'response', created_at: serverSeconds() - 5, status, background: true, model: 'gpt-5.2', output: [], completed_at: status === 'completed' ? serverSeconds() : null });
  const server = await scriptedServer(t, (req, res) => {
    const date = new Date(serverSeconds() * 1000).toUTCString();
    if (req.url?.includes('stream=true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', date });
      res.flushHeaders();
      if (!req.url.includes('starting_after')) {
        res.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response: object('queued') })}\n\n`);
        res.write(`event: response.in_progress\ndata: ${JSON.stringify({ type: 'response.in_progress', sequence_number: 1, response: object('in_progress') })}\n\n`);
      }
      return; // then silent: the model thinks
    }
    retrieves += 1;
    answer(res, 200, JSON.stringify(object(retrieves === 1 ? 'in_progress' : 'completed')), { 'content-type': 'application/json', 'x-request-id': 'req_scripted', date });
  });
  const run = await runMain(['poll', CREATED_ID, '--stream', '--json', '--timeout', '2'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl }, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(retrieves, 2, server.requests.join('\n'));
  const stream = singleJsonObject(run.stdout)['stream'] as Record<string, unknown>;
  assert.notEqual(stream['delivery'], 'buffered', JSON.stringify(stream));
  assert.equal(stream['finding'], null);
  assert.doesNotMatch(run.stderr, /holds server-sent events/);
});

/** Passes everything through, except that it answers a resume (starting_after) with its own HTML block page. */
const blockingResumes: Relay = (upstream, res) => {
  if (!(upstream as unknown as { req: { path: string } }).req.path.includes('starting_after')) {
    res.writeHead(upstream.statusCode ?? 502, upstream.headers);
    // The emulator's drop reaches bgprobe as a drop, not as silence.
    upstream.on('close', () => upstream.complete || res.destroy());
    return void upstream.pipe(res);
  }
  upstream.resume();
  const page = '<html><head><title>Request blocked</title></head><body>This request was blocked by the security policy.</body></html>';
  res.writeHead(400, { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(page)) });
  res.end(page);
};

test('a resume refused by the block page of a proxy is not said to be the API refusing for a passed resume window', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 200, inProgressMs: 800, faults: parseFaults('stream1=drop-after:3') });
  const baseUrl = await reverseProxy(t, emulator.baseUrl, blockingResumes);
  const run = await runMain(['run', '--stream', '--json', '--poll-interval', '0.2', '--output', 'r.md'], { ...envFor(emulator), OPENAI_BASE_URL: baseUrl }, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  const stream = singleJsonObject(run.stdout)['stream'] as Record<string, unknown>;
  assert.match(String(stream['fallback']), /^an answer that is not the API's refused to resume the stream \(.*HTTP 400.*Request blocked/, run.stderr);
  assert.doesNotMatch(run.stderr, /the API refused|resume window has passed|not created with stream: true/);
  assert.doesNotMatch(String(stream['fallback']), /the API refused|resume window has passed/);
});

test('a streamed create the server takes 3 s to answer, whose short answer then streams in 0.15 s, is not called buffered', async (t) => {
  // Nothing for 3 s, then every event within 250 ms: the bytes of a proxy that buffers, but the
  // server stamps the response as made within the same second or so, so the burst may be all there
  // was to send. Only a burst shorter than what the server says the response took shows holding back.
  const { run, stream } = await streamRun(t, { queuedMs: 50, inProgressMs: 100, faults: parseFaults('stream1=slow:3000') });
  assert.equal(run.code, 0, run.stderr);
  assert.ok((stream['time_to_first_event_seconds'] as number) >= 2.5, JSON.stringify(stream));
  assert.notEqual(stream['delivery'], 'buffered', JSON.stringify(stream));
  assert.equal(stream['finding'], null);
  assert.doesNotMatch(run.stderr, /buffers server-sent events/);
});
