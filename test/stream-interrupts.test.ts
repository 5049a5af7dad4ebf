import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startCli, tempDir, TEST_KEY } from './helpers.js';

/* A Ctrl-C (SIGINT, to a child process: signals are the subject) while a streamed run waits on the API. */

/**
 * An API whose streamed create sends response.created, then response.queued, each only when the
 * test says so: the moment after response.created is the one at which a client that leaves has
 * left responses queued for many minutes. Gates, not delays, so a loaded machine cannot reorder
 * the signal and the events.
 */
async function gatedStream(t: TestContext) {
  const log: { event: string; at: number }[] = [];
  const response = { id: 'resp_slow1', object: 'response', status: 'queued', background: true, model: 'gpt-5.2', output: [], created_at: 1 };
  let arrive = () => {};
  let sendCreated = () => {};
  let sendQueued = () => {};
  const requested = new Promise<void>((resolve) => (arrive = resolve));
  const createdGate = new Promise<void>((resolve) => (sendCreated = resolve));
  const queuedGate = new Promise<void>((resolve) => (sendQueued = resolve));
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ...response, status: 'in_progress' }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    arrive();
    let open = true;
    void createdGate.then(() => {
      if (!open) return;
      log.push({ event: 'created sent', at: Date.now() });
      res.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response })}\n\n`);
      return queuedGate.then(() => {
        if (!open) return;
        log.push({ event: 'queued sent', at: Date.now() });
        res.write(`event: response.queued\ndata: ${JSON.stringify({ type: 'response.queued', sequence_number: 1, response })}\n\n`);
      });
    });
    res.on('close', () => {
      open = false;
      log.push({ event: 'client closed', at: Date.now() });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, log, requested, sendCreated, sendQueued };
}

test('interrupted right after response.created, bgprobe waits for the next event before closing the stream, and says why', async (t) => {
  const api = await gatedStream(t);
  api.sendCreated();
  const cli = startCli(['run', '--stream', '--output', 'r.md'], { cwd: tempDir(t), env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: api.baseUrl } });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Created response resp_slow1/);
  cli.child.kill('SIGINT');
  await cli.waitForStderr(/Stopping right after response\.created/);
  api.sendQueued();
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
  const api = await gatedStream(t);
  const cli = startCli(['run', '--stream', '--output', 'r.md'], { cwd: tempDir(t), env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: api.baseUrl } });
  t.after(() => cli.child.kill('SIGKILL'));
  await api.requested;
  cli.child.kill('SIGINT');
  // Said at once: the create is in flight, so nothing ends until its first event names the id.
  await cli.waitForStderr(/SIGINT: waiting for the create's answer to learn the response id/);
  api.sendCreated();
  await cli.waitForStderr(/Stopping right after response\.created/);
  api.sendQueued();
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
