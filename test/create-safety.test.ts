import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { startEmulator } from '../src/emulator/server.js';
import { callsOf, emulatorFor, envFor, runCli, startCli, tempDir, TEST_KEY } from './helpers.js';

const FAST = { queuedMs: 50, inProgressMs: 100 };

test('a create refused with 503 is retried with the same Idempotency-Key, and only one job runs', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'create', nth: 1, andLater: false, action: { kind: 'status', status: 503, retryAfter: '0.05' } }] });
  const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  const creates = emulator.requests.filter((r) => r.method === 'POST');
  assert.equal(creates.length, 2);
  const keys = creates.map((r) => r.headers['idempotency-key']);
  assert.match(String(keys[0]), /^bgprobe-[0-9a-f-]{36}$/);
  assert.equal(keys[0], keys[1]);
  assert.match(result.stderr, /Retry 1\/5 in 0\.1 s after: POST \/v1\/responses failed: the API answered HTTP 503/);
});

test('a create whose connection drops after sending is not resent: exit 1 says a job may exist', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'create', nth: 1, andLater: false, action: { kind: 'drop' } }] });
  const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'r.md', '--json'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.equal(callsOf(emulator).creates, 1, 'never resent');
  assert.equal(callsOf(emulator).polls, 0);
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.match(last, /^bgprobe: POST \/v1\/responses: .*failed.*A background response may have been created anyway/);
  assert.match(last, /dashboard/);
  // The follow-up command carries this run's options, so it reaches the same API typed as printed.
  assert.match(last, /follow it with "bgprobe poll RESPONSE_ID --base-url http:\/\/127\.0\.0\.1:\d+\/v1", RESPONSE_ID being its id/);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.exit_code, 1);
  assert.match(summary.error, /may have been created/);
});

test('a create whose answer does not come within --timeout is not resent', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'create', nth: 1, andLater: false, action: { kind: 'slow', delayMs: 3000 } }] });
  const result = await runCli(['run', '--timeout', '0.5', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.equal(callsOf(emulator).creates, 1);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /^bgprobe: POST \/v1\/responses: .*A background response may have been created anyway/);
});

test('a create answered 500 is not resent either', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'create', nth: 1, andLater: false, action: { kind: 'status', status: 500 } }] });
  const result = await runCli(['run', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.equal(callsOf(emulator).creates, 1);
  assert.match(result.stderr, /HTTP 500 server_error: .*may have been created anyway/);
});

test('a create that never reached a server (connection refused) is retried, once for a loopback port', async (t) => {
  const port = await freePort();
  const dir = tempDir(t);
  const cli = startCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` },
  });
  t.after(() => cli.child.kill('SIGKILL'));
  // A refused loopback port gets one retry (issue 16), at least 375 ms away: the server starts now.
  await cli.waitForStderr(/Retry 1\/1 in .* after: POST \/v1\/responses: the TCP connection to 127\.0\.0\.1:\d+ failed \(ECONNREFUSED/);
  const emulator = await startEmulator({ ...FAST, port });
  t.after(() => emulator.close());
  const result = await cli.done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(callsOf(emulator).creates, 1, 'the server saw one create');
  assert.doesNotMatch(result.stderr, /may have been created/);
});

test('a 400 on create is not retried and says what the API said', async (t) => {
  const emulator = await emulatorFor(t, { faults: [{ call: 'create', nth: 1, andLater: false, action: { kind: 'status', status: 400 } }] });
  const result = await runCli(['run', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.equal(callsOf(emulator).creates, 1);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /^bgprobe: POST \/v1\/responses failed: the API answered HTTP 400 invalid_request_error: Emulated HTTP 400/);
  assert.doesNotMatch(result.stderr, /may have been created/);
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
