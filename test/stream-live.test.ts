import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveProgress, statusSegments } from '../src/console/live-line.js';
import { styleFor } from '../src/console/format.js';
import { parseFaults } from '../src/emulator/faults.js';
import { emulatorFor, hasScript, runCliInPty, tempDir, TEST_KEY } from './helpers.js';

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

test('in stream mode the status line counts events received, and reconnects once a stream broke, instead of polls it does not send', () => {
  const plain = (stream: { events: number; reconnects: number }) =>
    statusSegments({ status: 'in_progress', polls: 0, nextPollAt: undefined, stream }, 0, 12.34, 0, styleFor(false))
      .map(([text]) => text)
      .join('');
  assert.equal(plain({ events: 7, reconnects: 0 }), '⠋ in_progress  elapsed 12.3s  events 7');
  assert.equal(plain({ events: 31, reconnects: 2 }), '⠋ in_progress  elapsed 12.3s  events 31  reconnects 2');
});

test('run --stream on a terminal: the live line shows the events as they come and the reconnect after a drop, never a poll count', { skip: !hasScript() && 'util-linux script is not installed' }, async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 200, inProgressMs: 800, faults: parseFaults('stream1=drop-after:6') });
  const dir = tempDir(t);
  const { code, output } = await runCliInPty(['run', '--stream', '--output', 'r.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(code, 0, output);
  const plain = output.replace(/\x1b\[\d+m/g, '');
  assert.match(plain, /(queued|in_progress) {2}elapsed \d+\.\ds {2}events [1-9]\d*(\s|$)/, 'events counted before the drop');
  assert.match(plain, /in_progress {2}elapsed \d+\.\ds {2}events \d+ {2}reconnects 1/, 'the reconnect shown after the drop');
  assert.doesNotMatch(plain, / {2}polls \d/);
});
