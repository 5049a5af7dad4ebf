import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { emulatorFor, envFor, runCli, tempDir } from './helpers.js';

/** How many stderr lines carry the resume command for `id`. */
function resumeLines(stderr: string, id: string): string[] {
  return stderr.split('\n').filter((line) => line.includes(`bgprobe poll ${id}`));
}

test('--max-wait: the resume command is said once on stderr (the final bgprobe line) and kept in the report', async (t) => {
  // Poll 1 is answered and every later poll held, so --max-wait ends a known wait (counted polls, not a race).
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: parseFaults('poll2+=slow:60000') });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '2', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  const lines = resumeLines(result.stderr, id);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^bgprobe: --max-wait 2 s passed/);
  assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), new RegExp(`\\[WARN\\] Response ${id} is still running: resume with "bgprobe poll ${id} --base-url [^"]+"`));
});

test('a poll that fails for good: the error and the resume command are said once on stderr, and kept in the report', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: parseFaults('poll1+=500') });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.05', '--max-retries', '0', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 1, result.stderr);
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  assert.equal(resumeLines(result.stderr, id).length, 1, result.stderr);
  assert.equal(result.stderr.split('\n').filter((line) => line.includes('HTTP 500')).length, 1, result.stderr);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /\[ERROR\] GET .* failed: the API answered HTTP 500/);
  assert.match(report, new RegExp(`\\[WARN\\] Response ${id} may still be running`));
});
