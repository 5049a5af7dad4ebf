import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callsOf, emulatorFor, envFor, startCli, tempDir } from './helpers.js';

test('Ctrl-C during a create that then fails ambiguously says a job may exist, never "no response was created"', async (t) => {
  // The emulator creates the job, then answers too late: the create times out after it was sent.
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: [{ call: 'create', nth: 1, andLater: false, action: { kind: 'slow', delayMs: 3000 } }] });
  const dir = tempDir(t);
  const cli = startCli(['run', '--timeout', '0.6', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Submitting the background response/);
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(callsOf(emulator).creates, 1, 'the create reached the server, and was not resent');
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /no response was created/);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /^bgprobe: POST \/v1\/responses: no complete answer within 0\.6 s \(--timeout\)\. A background response may have been created anyway/);
});
