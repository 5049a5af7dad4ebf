import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { liveProgress, statusSegments } from '../src/console/live-line.js';
import type { ConsoleFlags } from '../src/cli/flags.js';
import { resolveConsoleOptions } from '../src/console/options.js';
import { formatDuration, styleFor } from '../src/console/format.js';
import type { Io } from '../src/io.js';
import { nextPollDue } from '../src/job/watch.js';
import { redactedSink, Redactor } from '../src/redact.js';

function ioWith(isTTY: boolean, env: Record<string, string> = {}): Io {
  return { stdout: { write: () => true }, stderr: { write: () => true, isTTY }, env, cwd: '/', redactor: new Redactor() };
}

test('colour and the live line follow the terminal, NO_COLOR, --no-color, TERM=dumb and --quiet', () => {
  const cases: [string, boolean, Record<string, string>, Partial<ConsoleFlags>, { live: boolean; color: boolean; verbosity: string }][] = [
    ['terminal', true, {}, {}, { live: true, color: true, verbosity: 'normal' }],
    ['pipe', false, {}, {}, { live: false, color: false, verbosity: 'normal' }],
    ['NO_COLOR=1', true, { NO_COLOR: '1' }, {}, { live: true, color: false, verbosity: 'normal' }],
    ['NO_COLOR empty counts as unset (no-color.org)', true, { NO_COLOR: '' }, {}, { live: true, color: true, verbosity: 'normal' }],
    ['--no-color', true, {}, { noColor: true }, { live: true, color: false, verbosity: 'normal' }],
    ['TERM=dumb', true, { TERM: 'dumb' }, {}, { live: false, color: false, verbosity: 'normal' }],
    ['--quiet', true, {}, { quiet: true }, { live: false, color: true, verbosity: 'quiet' }],
    ['--verbose', false, {}, { verbose: true }, { live: false, color: false, verbosity: 'verbose' }],
  ];
  const none: ConsoleFlags = { quiet: false, verbose: false, noColor: false };
  for (const [label, isTTY, env, flags, expected] of cases) {
    assert.deepEqual({ ...resolveConsoleOptions({ ...none, ...flags }, ioWith(isTTY, env)) }, expected, label);
  }
  assert.throws(() => resolveConsoleOptions({ ...none, quiet: true, verbose: true }, ioWith(false)), /--quiet and --verbose both given/);
});

test('durations read well at every scale', () => {
  for (const [seconds, shown] of [
    [0, '0.0s'],
    [4.26, '4.3s'],
    [59.9, '59.9s'],
    [187, '3m 07s'],
    [3725, '1h 02m'],
  ] as const) {
    assert.equal(formatDuration(seconds), shown);
  }
});

test('the next poll is the first slot of the fixed schedule after now, as the poller picks it', () => {
  for (const [now, due] of [
    [0, 1000],
    [1003, 2000],
    [1999, 2000],
    [2000, 3000],
    [3500, 4000],
  ] as const) {
    assert.equal(nextPollDue(0, 1000, now), due, `now ${now}`);
  }
  assert.equal(nextPollDue(500, 100, 520), 600);
});

test('the status line shows status, elapsed, polls and the countdown, and says when a poll is under way', () => {
  const plain = (state: Parameters<typeof statusSegments>[0], now: number) => statusSegments(state, 0, 12.34, now, styleFor(false)).map(([text]) => text).join('');
  assert.equal(plain({ status: 'in_progress', polls: 4, nextPollAt: 2500 }, 1000), '⠋ in_progress  elapsed 12.3s  polls 4  next poll in 1.5s');
  assert.equal(plain({ status: 'queued', polls: 1, nextPollAt: 1000 }, 1000), '⠋ queued  elapsed 12.3s  polls 1  polling now');
  assert.equal(plain({ status: 'queued', polls: 1, nextPollAt: 61_000 }, 1000), '⠋ queued  elapsed 12.3s  polls 1  next poll in 60s');
  assert.equal(plain({ status: 'completed', polls: 9, nextPollAt: undefined }, 1000), '⠋ completed  elapsed 12.3s  polls 9');
  assert.equal(plain(undefined, 1000), '⠋ waiting for the API  elapsed 12.3s');
});

test('the live line prints events above itself, never wraps, and stop() clears it and its timer for good', async () => {
  let written = '';
  const stderr = {
    isTTY: true,
    columns: 30,
    write: (text: string) => {
      written += text;
      return true;
    },
  };
  let now = 0;
  // main's stderr masks secrets on the way out; the live line writes through it.
  const progress = liveProgress({ stderr: redactedSink(stderr, new Redactor().add('sk-secret-value-1234')), options: { verbosity: 'normal', live: true, color: false } }, { monotonic: () => now }, 0);
  progress.pollState?.({ status: 'in_progress', polls: 2, nextPollAt: 1000 });
  now = 400;
  progress.event({ time: new Date(0), level: 'INFO', message: 'Poll 2 with sk-secret-value-1234' });
  const lastRedraw = written.slice(written.lastIndexOf('\r') + 1);
  assert.ok(lastRedraw.length <= 29, `fits 30 columns: ${JSON.stringify(lastRedraw)}`);
  assert.match(written, /\r {2,}\r1970-01-01T00:00:00\.000Z INFO {2}Poll 2 with sk-\.\.\.1234\n\r⠋ in_progress/);
  assert.ok(!written.includes('sk-secret-value-1234'));
  // The spinner turns every 100 ms; a loaded machine may be late, so wait for it rather than time it.
  for (let i = 0; i < 50 && !written.includes('⠙ in_progress'); i++) await delay(100);
  assert.match(written, /⠙ in_progress/, 'the spinner turns');
  progress.stop?.();
  assert.match(written, /\r {20,}\r$/, 'stop clears the line');
  const atStop = written.length;
  await delay(250);
  assert.equal(written.length, atStop, 'nothing is drawn after stop');
  progress.event({ time: new Date(0), level: 'WARN', message: 'after' });
  assert.ok(written.endsWith('1970-01-01T00:00:00.000Z WARN  after\n'), 'events still print after stop, with no line redrawn');
});
