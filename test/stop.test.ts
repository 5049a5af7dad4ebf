import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { handleInterrupts, RunStopped, Stopper } from '../src/job/stop.js';
import { systemClock } from '../src/job/clock.js';

test('the first interrupt stops the run with its exit code; the second exits at once; removal detaches', async () => {
  const target = new EventEmitter();
  const stopper = new Stopper();
  const exits: number[] = [];
  const seconds: string[] = [];
  const remove = handleInterrupts(stopper, { target, exit: (code) => exits.push(code), onSecondInterrupt: (s) => seconds.push(s) });
  const waiting = systemClock.sleep(60_000, stopper.signal);
  target.emit('SIGTERM', 'SIGTERM');
  await assert.rejects(waiting, (error: unknown) => error instanceof RunStopped && error.why === 'SIGTERM' && error.exitCode === 143);
  assert.deepEqual(exits, []);
  target.emit('SIGINT', 'SIGINT');
  assert.deepEqual(exits, [130]);
  assert.deepEqual(seconds, ['SIGINT']);
  remove();
  assert.equal(target.listenerCount('SIGINT') + target.listenerCount('SIGTERM'), 0);
});

test('the deadline stops the run with exit 4 and names --max-wait', async () => {
  const stopper = new Stopper();
  stopper.startDeadline(0.05);
  await assert.rejects(systemClock.sleep(60_000, stopper.signal), (error: unknown) => error instanceof RunStopped && error.exitCode === 4 && /--max-wait 0\.05 s passed/.test(error.message));
  assert.throws(() => stopper.throwIfStopped(), RunStopped);
  stopper.dispose();
});

test('without --max-wait nothing stops the run', () => {
  const stopper = new Stopper();
  stopper.startDeadline(undefined);
  assert.equal(stopper.signal.aborted, false);
  assert.doesNotThrow(() => stopper.throwIfStopped());
  stopper.dispose();
});
