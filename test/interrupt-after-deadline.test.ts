import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulatorFor, envFor, startCli, tempDir } from './helpers.js';

test('one Ctrl-C while --cancel-on-timeout waits on a hanging cancel exits at once, naming the id', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: [{ call: 'cancel', nth: 1, andLater: false, action: { kind: 'slow', delayMs: 20_000 } }] });
  const dir = tempDir(t);
  const cli = startCli(['run', '--poll-interval', '0.1', '--max-wait', '0.4', '--cancel-on-timeout', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Cancelling response/);
  const started = Date.now();
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(result.code, 130, result.stderr);
  assert.ok(Date.now() - started < 10_000, 'did not wait for the hanging cancel');
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  assert.match(result.stderr, new RegExp(`bgprobe: SIGINT again: exiting at once; response ${id} may still be running: resume with "bgprobe poll ${id} --base-url `));
});
