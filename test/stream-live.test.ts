import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveProgress } from '../src/console/live-line.js';

/** A terminal of 40 columns that keeps everything written to it. */
function terminal() {
  const sink = {
    written: '',
    columns: 40,
    write(text: string) {
      sink.written += text;
      return true;
    },
  };
  return sink;
}

test("on a colour terminal, stream mode shows the tail of the model's text under the status line; stop clears both lines", () => {
  const stderr = terminal();
  const progress = liveProgress({ stderr, options: { verbosity: 'normal', live: true, color: true } }, { monotonic: () => 0 }, 0);
  progress.pollState?.({ status: 'in_progress', polls: 0, nextPollAt: undefined });
  progress.outputDelta?.('Hello, ');
  progress.outputDelta?.('world.\nA second \u001b[31mline');
  const last = stderr.written.slice(stderr.written.lastIndexOf('\n'));
  assert.match(last, /Hello, world\. A second \uFFFD\[31mline/, 'one line, words kept together, no escape from the text');
  assert.ok(last.endsWith('\u001b[1A\r'), 'the cursor goes back to the status line');
  progress.stop?.();
  assert.match(stderr.written, /\r {10,}\n\r {10,}\u001b\[1A\r$/, 'stop blanks the status line and the text line');
});

test('without colour the live line shows no text preview, so it still writes no escape sequence', () => {
  const stderr = terminal();
  const progress = liveProgress({ stderr, options: { verbosity: 'normal', live: true, color: false } }, { monotonic: () => 0 }, 0);
  progress.pollState?.({ status: 'in_progress', polls: 0, nextPollAt: undefined });
  assert.equal(progress.outputDelta, undefined);
  progress.stop?.();
  assert.ok(!stderr.written.includes('\u001b'));
});
