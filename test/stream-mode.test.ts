import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { StreamTiming } from '../src/job/stream-timing.js';
import { emulatorFor, envFor, ROOT, runMain, singleJsonObject, tempDir, TEST_KEY } from './helpers.js';
import { streamRun } from './stream-run.js';

/* run --stream and poll --stream when the stream works: live, buffered, attached, replayed (when it breaks: stream-recovery.test.ts). */

test('run --stream follows the events to completed without a single poll, and says each stage on stderr', async (t) => {
  const { emulator, run, summary, stream, report } = await streamRun(t, { queuedMs: 200, inProgressMs: 600 });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(summary['status'], 'completed');
  assert.equal(summary['polls'], 0);
  const create = emulator.requests.find((r) => r.method === 'POST');
  assert.equal(JSON.parse(create?.body ?? '{}').stream, true);
  assert.equal(JSON.parse(create?.body ?? '{}').background, true);
  assert.equal(emulator.requests.filter((r) => r.method === 'GET').length, 0, 'stream mode needs no poll');
  for (const stage of [/Created response resp_\w+: status queued \(stream event 0/, /Stream event 1: response\.queued/, /Stream event 2: response\.in_progress/, /output item 1 added \(message/, /output item 1 done \(message, completed\)/, /reached terminal status completed/]) {
    assert.match(run.stderr, stage);
  }
  assert.equal(stream['delivery'], 'live');
  assert.ok((stream['events'] as number) >= 10);
  assert.ok((stream['time_to_first_event_seconds'] as number) < 2);
  assert.equal(stream['fallback'], null);
  assert.match(report, /\| Stream delivery \| live \|/);
  assert.match(report, /completed \| stream event \d+ \|/);
});

test('a stream the emulator buffers to the end is called buffered, with what that means for streaming clients', async (t) => {
  const { run, stream } = await streamRun(t, { queuedMs: 300, inProgressMs: 2300, faults: parseFaults('stream1=buffer') });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(stream['delivery'], 'buffered');
  assert.match(run.stderr, /arrived in one burst at the end.*buffers server-sent events \(text\/event-stream\).*look frozen/);
  assert.ok((stream['time_to_first_event_seconds'] as number) >= 2);
});

test('poll --stream attaches to a response created with stream: true; one created without it is followed by polling, said once', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 200, inProgressMs: 700 });
  const cwd = tempDir(t);
  const create = async (stream: boolean) => {
    const res = await fetch(`${emulator.baseUrl}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5.2', input: 'made elsewhere', background: true, stream }),
    });
    if (!stream) return ((await res.json()) as { id: string }).id;
    // Read up to the first event, which names the id, then leave (the response runs on).
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/"id":"(resp_\w+)"/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    return /"id":"(resp_\w+)"/.exec(text)?.[1] as string;
  };
  const streamed = await create(true);
  const attached = await runMain(['poll', streamed, '--stream', '--json', '--poll-interval', '0.2'], envFor(emulator), cwd);
  assert.equal(attached.code, 0, attached.stderr);
  assert.match(attached.stderr, new RegExp(`Attached to response ${streamed}: status (queued|in_progress) \\(stream event 0`));
  assert.equal(singleJsonObject(attached.stdout)['polls'], 0);
  assert.ok(emulator.requests.some((r) => r.method === 'GET' && r.query === 'stream=true'));

  const plain = await create(false);
  const polled = await runMain(['poll', plain, '--stream', '--json', '--poll-interval', '0.2'], envFor(emulator), cwd);
  assert.equal(polled.code, 0, polled.stderr);
  assert.match(polled.stderr, /refused to stream response resp_\w+ \(.*not created with stream=true.*\)/);
  assert.equal(polled.stderr.match(/refused to stream/g)?.length, 1);
  assert.match(String((singleJsonObject(polled.stdout)['stream'] as Record<string, unknown>)['fallback']), /refused to stream/);
});

test('policy and docs/outbound-network-access.md say that stream mode uses the same two required endpoints', async (t) => {
  const run = await runMain(['policy'], {}, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Stream mode \(--stream\) uses the same two required endpoints: the create with stream: true, and\nthe retrieve with \?stream=true&starting_after=N/);
  const docs = readFileSync(join(ROOT, 'docs', 'outbound-network-access.md'), 'utf8');
  assert.match(docs, /### Stream mode uses the same two required endpoints/);
  assert.match(docs, /`\?stream=true&starting_after=N`/);
});

test('stream faults parse as documented, and a malformed one is refused with the syntax', () => {
  assert.deepEqual(
    parseFaults('stream1=drop-after:5,stream2+=too-old,stream3=buffer,stream4=error-event').map((f) => [f.call, f.nth, f.andLater, f.action]),
    [
      ['stream', 1, false, { kind: 'drop-after', sequenceNumber: 5 }],
      ['stream', 2, true, { kind: 'too-old' }],
      ['stream', 3, false, { kind: 'buffer' }],
      ['stream', 4, false, { kind: 'error-event' }],
    ],
  );
  assert.throws(() => parseFaults('stream1=drop-after'), /unknown action; syntax: .*for streams also drop-after:SEQ, too-old, buffer or error-event/);
});

test('poll --stream of a finished response gets the replay at once: delivery unknown, never called live or buffered', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 0, inProgressMs: 100 });
  const res = await fetch(`${emulator.baseUrl}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5.2', input: 'made elsewhere', background: true, stream: true }),
  });
  const text = await res.text();
  const id = /"id":"(resp_\w+)"/.exec(text)?.[1] as string;
  const attached = await runMain(['poll', id, '--stream', '--json'], envFor(emulator), tempDir(t));
  assert.equal(attached.code, 0, attached.stderr);
  const stream = singleJsonObject(attached.stdout)['stream'] as Record<string, unknown>;
  assert.equal(stream['delivery'], 'unknown');
  assert.equal(stream['finding'], null);
  assert.ok((stream['events'] as number) >= 10);
});

test('stream timing: a stream silent past --timeout while the server finished the response is called held back (buffered)', () => {
  const timing = new StreamTiming();
  timing.open(0);
  timing.event(5, 0);
  timing.event(10, 1);
  timing.end(1000, 'idle', 1);
  timing.open(1000, 1);
  timing.end(2100, 'idle', 1);
  assert.equal(timing.stats(undefined).delivery, 'unknown', 'silence alone proves nothing');
  timing.heldBack(2200);
  const stats = timing.stats(undefined);
  assert.equal(stats.delivery, 'buffered');
  assert.match(stats.finding ?? '', /No event arrived for 1\.1 s while the server finished the response/);
});

test("a stream's wait and age count from the attempt that answered: a retry's pause before it is neither silence held back nor part of a cut", () => {
  // The open was answered 3 s after it was first sent, its answering attempt taking 100 ms: a 503 and Retry-After 3 before it.
  const held = new StreamTiming();
  held.open(0);
  held.answered(3000, 100);
  held.end(10_000, 'idle', undefined);
  held.heldBack(10_000);
  assert.match(held.stats(undefined).finding ?? '', /No event arrived for 7\.1 s while/, 'the retry pause is not silence of the path');

  // Two streams, each cut 5 s after its answer; the first waited 3 s for a retry: the same age, so cut at that age.
  const cut = new StreamTiming();
  cut.open(0);
  cut.answered(3000, 0);
  cut.event(3010, 0);
  cut.end(8000, 'dropped', 0);
  cut.open(8100, 0);
  cut.answered(8100, 0);
  cut.event(8110, 1);
  cut.end(13_100, 'dropped', 1);
  assert.equal(cut.stats(undefined).delivery, 'cut');
});
