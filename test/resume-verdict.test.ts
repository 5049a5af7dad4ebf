import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { createResponseOn, emulatorFor, envFor, resumeHintFor, runCli, singleJsonObject, tempDir } from './helpers.js';

test('poll stopped before it has seen any status does not claim the response "is still running": it may be, and the commands are given', async (t) => {
  // Every GET is held: the deadline ends the first retrieve, so no status of the response was ever seen.
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: parseFaults('poll1+=slow:60000') });
  const id = await createResponseOn(emulator);
  const dir = tempDir(t);
  const result = await runCli(['poll', id, '--max-wait', '1', '--output', 'p.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.equal(last, `bgprobe: --max-wait 1 s passed before a terminal status; response ${id} may still be running: ${resumeHintFor(id, emulator.baseUrl)}`);
  assert.doesNotMatch(result.stderr, /is still running/);

  const json = await runCli(['poll', id, '--max-wait', '1', '--output', 'p.md', '--json'], { cwd: dir, env: envFor(emulator) });
  assert.equal(json.code, 4, json.stderr);
  const summary = singleJsonObject(json.stdout);
  assert.equal(summary['status'], null);
  assert.equal(summary['resume_command'], `bgprobe poll ${id} --base-url ${emulator.baseUrl}`);
});
