import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callsOf, createResponseOn, emulatorFor, envFor, runCli, tempDir, TEST_KEY } from './helpers.js';

test('cancel of a running response cancels it and says so (exit 0)', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 60_000 });
  const id = await createResponseOn(emulator);
  const result = await runCli(['cancel', id], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `Response ${id} is now cancelled (it was queued)\nFinal status: cancelled\n`);
  assert.equal(callsOf(emulator).cancels, 1);
});

test('cancel --json of a running response', async (t) => {
  const emulator = await emulatorFor(t, { neverFinish: true, queuedMs: 0 });
  const id = await createResponseOn(emulator);
  const result = await runCli(['cancel', id, '--json'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { id, status: 'cancelled', was_terminal: false, exit_code: 0 });
});

test('cancel of a response that already ended says which status it had, exit 0, and sends no cancel', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 0, inProgressMs: 0 });
  const id = await createResponseOn(emulator);
  const result = await runCli(['cancel', id, '--json'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { id, status: 'completed', was_terminal: true, exit_code: 0 });
  assert.equal(callsOf(emulator).cancels, 0);
  const text = await runCli(['cancel', id], { cwd: tempDir(t), env: envFor(emulator) });
  assert.match(text.stdout, new RegExp(`^Response ${id} had already ended with status completed; nothing to cancel\n`));
});

test('cancel of an unknown id says so plainly, exit 1', async (t) => {
  const emulator = await emulatorFor(t);
  const result = await runCli(['cancel', 'resp_nope', '--json'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  const out = JSON.parse(result.stdout);
  assert.equal(out.exit_code, 1);
  assert.match(out.error, /^no response resp_nope is known at http:\/\/127\.0\.0\.1:\d+\/v1: .*HTTP 404 .*Response with id 'resp_nope' not found\./);
  assert.match(result.stderr, /^bgprobe: no response resp_nope is known/m);
  assert.ok(!result.stdout.includes(TEST_KEY) && !result.stderr.includes(TEST_KEY));
});

test('cancel retries a transient failure of the cancel call', async (t) => {
  const emulator = await emulatorFor(t, { neverFinish: true, faults: [{ call: 'cancel', nth: 1, andLater: false, action: { kind: 'status', status: 502, retryAfter: '0.05' } }] });
  const id = await createResponseOn(emulator);
  const result = await runCli(['cancel', id], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(callsOf(emulator).cancels, 2);
  assert.match(result.stderr, /Retry 1\/5 in 0\.1 s after: POST \/v1\/responses\/resp_\w+\/cancel failed: the API answered HTTP 502/);
});

test('cancel without a key fails before sending anything', async (t) => {
  const emulator = await emulatorFor(t);
  const result = await runCli(['cancel', 'resp_1'], { cwd: tempDir(t), env: { OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^bgprobe: OPENAI_API_KEY is not set/);
  assert.equal(emulator.requests.length, 0);
});

test('cancel met by a 404 that does not name the id does not say the id is unknown: it gives the answer as it came, exit 1', async (t) => {
  // The look-up's 404 is in the API's envelope but says "Emulated HTTP 404", as a gateway or an
  // API-compatible proxy may: that says nothing about the response, which is in fact still running.
  const emulator = await emulatorFor(t, { neverFinish: true, faults: [{ call: 'poll', nth: 1, andLater: false, action: { kind: 'status', status: 404 } }] });
  const id = await createResponseOn(emulator);
  const result = await runCli(['cancel', id, '--json'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  const out = JSON.parse(result.stdout);
  assert.doesNotMatch(out.error, /no response .* is known/);
  assert.match(out.error, new RegExp(`^GET /v1/responses/${id} failed: the API answered HTTP 404 invalid_request_error: Emulated HTTP 404`));
  assert.doesNotMatch(result.stderr, /is known/);
  assert.equal(callsOf(emulator).cancels, 0);
});

test('a cancel refused for a reason that is not "it ended", then a terminal status, is not called "had already ended"', async (t) => {
  // Looked up in_progress; the cancel refused with a 400 that does not say the response ended
  // ("Emulated HTTP 400", as "Only responses created with background=true can be cancelled." would
  // not); then it shows completed. When it ended is not known: it may have finished after the refusal.
  const faults = [
    { call: 'cancel', nth: 1, andLater: false, action: { kind: 'status', status: 400 } },
    { call: 'poll', nth: 2, andLater: false, action: { kind: 'set-status', status: 'completed' } },
  ] as const;
  const emulator = await emulatorFor(t, { neverFinish: true, faults: [...faults] });
  const id = await createResponseOn(emulator);
  const result = await runCli(['cancel', id], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout, /already ended/);
  assert.match(result.stdout, new RegExp(`^Response ${id} ended with status completed; the cancel was refused \\(POST /v1/responses/${id}/cancel failed: the API answered HTTP 400 invalid_request_error: Emulated HTTP 400 .*\\); nothing was cancelled\nFinal status: completed\n$`));
});

test('a cancel the API refuses because the response has just ended says it had already ended', async (t) => {
  // The look-up is made to show in_progress; by the cancel the emulator has completed it, and says "Cannot cancel a completed response."
  const emulator = await emulatorFor(t, { queuedMs: 0, inProgressMs: 0, faults: [{ call: 'poll', nth: 1, andLater: false, action: { kind: 'set-status', status: 'in_progress' } }] });
  const id = await createResponseOn(emulator);
  const result = await runCli(['cancel', id], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(callsOf(emulator).cancels, 1);
  assert.equal(result.stdout, `Response ${id} had already ended with status completed; nothing to cancel\nFinal status: completed\n`);
});
