import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { emulatorFor, envFor, runMain, singleJsonObject, tempDir } from './helpers.js';
import { streamRun } from './stream-run.js';

/* run --stream when the stream breaks, is refused, ends early, carries an error, goes silent or outlasts --max-wait. */

test('a stream dropped after event 6 resumes with starting_after=6, loses nothing, and the report shows the gap', async (t) => {
  const { emulator, run, stream, report } = await streamRun(t, { queuedMs: 200, inProgressMs: 800, faults: parseFaults('stream1=drop-after:6') });
  assert.equal(run.code, 0, run.stderr);
  const resume = emulator.requests.find((r) => r.method === 'GET');
  assert.equal(resume?.query, 'stream=true&starting_after=6');
  assert.match(run.stderr, /The event stream dropped after event 6 \(.*\); resuming with starting_after=6 in \d/);
  assert.match(run.stderr, /Stream resumed: event 7 arrived [\d.]+ s after the break \(no event lost\)/);
  const gaps = stream['gaps'] as { after: number; missing: number }[];
  assert.deepEqual(gaps.map((g) => [g.after, g.missing]), [[6, 0]]);
  assert.match(report, /\| Stream gap \| after event 6: [\d.]+ s, 0 events missing \|/);
});

test('a stream resumed while the response is still queued waits for the server, then gets a short answer at once: not called buffered', async (t) => {
  // The create's stream breaks after response.queued; the resumed stream (opened 0.4 s later) has
  // nothing to replay, so it is silent until the response leaves the queue (3.5 s after the create),
  // over the 2 s that marks buffering, then the whole short answer comes in 100 ms. The same bytes as a proxy that buffers, but only a stream that starts from the
  // beginning (the create's, or an attach) must show an event at once, so only such a stream's
  // wait is evidence of buffering.
  const { emulator, run, stream } = await streamRun(t, { queuedMs: 3500, inProgressMs: 100, faults: parseFaults('stream1=drop-after:1') });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(emulator.requests.find((r) => r.method === 'GET')?.query, 'stream=true&starting_after=1');
  assert.equal(stream['delivery'], 'unknown', JSON.stringify(stream));
  assert.equal(stream['finding'], null);
  assert.doesNotMatch(run.stderr, /buffers server-sent events/);
});

test('a refused resume (too old) falls back to polling, says so, and still reaches the terminal status', async (t) => {
  const { emulator, run, summary, stream } = await streamRun(t, { queuedMs: 200, inProgressMs: 800, faults: parseFaults('stream1=drop-after:3,stream2=too-old') });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /refused to resume the stream \(.*HTTP 400.*\): its resume window has passed/);
  assert.match(run.stderr, /following response resp_\w+ by polling instead/);
  assert.match(String(stream['fallback']), /refused to resume/);
  assert.ok((summary['polls'] as number) >= 1);
  assert.ok(emulator.requests.some((r) => r.method === 'GET' && r.query === ''), 'a plain retrieve polled');
});

test('a stream that ends without a terminal event is not a completion: bgprobe retrieves and reports the real status', async (t) => {
  const { run, summary } = await streamRun(t, { queuedMs: 200, inProgressMs: 500, finalStatus: 'cancelled' });
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /ended after event \d+ without a terminal event; a stream that ends is not a completion: retrieving/);
  assert.equal(summary['status'], 'cancelled');
  assert.ok((summary['polls'] as number) >= 1);
});

test('the real-wire error event is reported with its nested code and message, then response.failed ends the run', async (t) => {
  const { run, summary } = await streamRun(t, { queuedMs: 100, inProgressMs: 300, faults: parseFaults('stream1=error-event') });
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /Stream event \d+: error event: server_error: The server had an error/);
  assert.equal(summary['status'], 'failed');
});

test('--max-wait ends a stream that never finishes with exit 4, the id, the resume command and the stream timing in --json', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 100, neverFinish: true });
  const run = await runMain(['run', '--stream', '--json', '--max-wait', '1.5', '--output', 'r.md'], envFor(emulator), tempDir(t));
  assert.equal(run.code, 4, run.stderr);
  assert.match(run.stderr, /--max-wait 1\.5 s passed before a terminal status; response (resp_\w+) is still running: resume with "bgprobe poll resp_\w+ --base-url http:\/\/127\.0\.0\.1:\d+\/v1"/);
  const summary = singleJsonObject(run.stdout);
  assert.equal(summary['exit_code'], 4);
  const stream = summary['stream'] as Record<string, unknown>;
  assert.equal(stream['events'], 3, 'created, queued, in_progress');
  assert.ok((stream['longest_silence_seconds'] as number) >= 1);
});

test('a silence past --timeout is bgprobe\'s own idle limit, not a cut: it retrieves, reads on at once, and blames nothing', async (t) => {
  const { run, stream } = await streamRun(t, { queuedMs: 2600, inProgressMs: 400 }, ['--timeout', '1']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /No event for --timeout after event 1; retrieving response resp_\w+ to see whether it is still running/);
  assert.doesNotMatch(run.stderr, /dropped after event/);
  assert.notEqual(stream['delivery'], 'cut');
  assert.notEqual(stream['delivery'], 'buffered');
  for (const gap of stream['gaps'] as { missing: number }[]) assert.equal(gap.missing, 0);
});
