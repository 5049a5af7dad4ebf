import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { emulatorFor, envFor, runCli, tempDir } from './helpers.js';

test('a run stopped by --max-wait gives the resume commands once on stderr, and keeps them in the report', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '0.3', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  assert.equal(result.stderr.split(`bgprobe poll ${id}`).length - 1, 1, result.stderr);
  assert.match(result.stderr.trim().split('\n').at(-1)!, new RegExp(`^bgprobe: .*resume with "bgprobe poll ${id}"`));
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, new RegExp(`\\[WARN\\] Response ${id} is still running: resume with "bgprobe poll ${id}"`));
});
