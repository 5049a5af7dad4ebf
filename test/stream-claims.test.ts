import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
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
