import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { emulatorFor, envFor, runMain, tempDir } from './helpers.js';

test('a run that fails keeps stdout in its documented shape: the report line, then the last status seen', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: [{ call: 'poll', nth: 2, andLater: true, action: { kind: 'status', status: 400 } }] });
  const dir = tempDir(t);
  const result = await runMain(['run', '--poll-interval', '0.05', '--output', 'r.md'], envFor(emulator), dir);
  assert.equal(result.code, 1, result.stderr);
  const [report, status, ...more] = result.stdout.trimEnd().split('\n');
  assert.equal(report, `Report written to: ${join(dir, 'r.md')}`);
  assert.match(status ?? '', /^Final status: (queued|in_progress)$/);
  assert.deepEqual(more, []);
  // The one error line is printed once, by main, after everything else on stderr.
  const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('bgprobe: '));
  assert.equal(errorLines.length, 1, result.stderr);
  assert.equal(result.stderr.trimEnd().split('\n').at(-1), errorLines[0]);
});

test('a run that fails before any response says so on stdout: Final status: none', async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  const result = await runMain(['run', '--output', 'r.md'], { OPENAI_BASE_URL: emulator.baseUrl }, dir);
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(result.stdout.trimEnd().split('\n'), [`Report written to: ${join(dir, 'r.md')}`, 'Final status: none']);
  assert.equal(emulator.requests.length, 0);
});
