import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { callsOf, emulatorFor, envFor, runCli, tempDir, TEST_KEY } from './helpers.js';

/** Pending for a fixed number of polls, not for a time: a busy machine cannot make a poll miss it. */
const FAST = { pendingPolls: 4 };

function outboundRows(report: string): string[] {
  return report.split('## Outbound Requests')[1]!.split('## Final Status')[0]!.match(/^\| 20\d\d-.*$/gm) ?? [];
}

test('a dropped poll and a 503 with Retry-After are retried, logged and listed, and the run completes', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'poll', nth: 2, andLater: false, action: { kind: 'drop' } }, { call: 'poll', nth: 3, andLater: false, action: { kind: 'status', status: 503, retryAfter: '0.1' } }] });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /WARN {2}Retry 1\/5 in \d\.\d s after: GET \/v1\/responses\/resp_\w+: the connection to .* failed/);
  assert.match(result.stderr, /WARN {2}Retry 2\/5 in 0\.1 s after: GET \/v1\/responses\/resp_\w+ failed: the API answered HTTP 503/);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /\[WARN\] Retry 1\/5/);
  assert.match(report, /\[WARN\] Retry 2\/5/);
  const rows = outboundRows(report);
  assert.equal(rows.length, emulator.requests.length, 'every attempt, answered or not, is a row');
  assert.ok(rows.some((row) => /\| GET \| .* \| no answer \(/.test(row)));
  assert.ok(rows.some((row) => /\| GET \| .* \| 503 \|/.test(row)));
  assert.ok(!report.includes(TEST_KEY) && !result.stderr.includes(TEST_KEY));
});

test('retry-after-ms on a 429 is honoured', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'poll', nth: 1, andLater: false, action: { kind: 'status', status: 429, retryAfterMs: '120' } }] });
  const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Retry 1\/5 in 0\.1 s after: GET .* HTTP 429 requests: Rate limit reached/);
});

test('a 404 while polling is not retried: one line names the status and the API message, and, as it does not name the id, the commands to resume and cancel', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'poll', nth: 2, andLater: false, action: { kind: 'status', status: 404 } }] });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.equal(callsOf(emulator).polls, 2);
  assert.doesNotMatch(result.stderr, /Retry /);
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.match(last, /^bgprobe: GET \/v1\/responses\/resp_\w+ failed: the API answered HTTP 404 invalid_request_error: Emulated HTTP 404/);
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  // "Emulated HTTP 404" is a 404 in the API's envelope that does not name the id (as a gateway or
  // an API-compatible proxy sends): it says nothing about the response, which may still be running
  // (it was in_progress) and billed, so the commands to follow and cancel it stay, on stderr and in the report.
  assert.match(last, new RegExp(`; response ${id} may still be running: resume with "bgprobe poll ${id} --base-url [^"]+", cancel with "bgprobe cancel ${id} `));
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, new RegExp(`\\| Response id \\| ${id} \\|`));
  assert.match(report, new RegExp(`\\| Cancel \\| bgprobe cancel ${id} `));
});

test('a 429 insufficient_quota is not retried', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'poll', nth: 1, andLater: false, action: { kind: 'status', status: 429, quota: true } }] });
  const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.equal(callsOf(emulator).polls, 1);
  assert.match(result.stderr, /HTTP 429 insufficient_quota: You exceeded your current quota/);
});

test('--max-retries bounds the retries of one poll; then the run stops with the id', async (t) => {
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'poll', nth: 1, andLater: true, action: { kind: 'status', status: 502, retryAfter: '0.05' } }] });
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-retries', '2', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.equal(callsOf(emulator).polls, 3, 'one attempt and two retries');
  assert.match(result.stderr, /Retry 2\/2/);
  assert.match(result.stderr, /may still be running: resume with "bgprobe poll resp_\w+ --base-url /);
});

test('a poll slower than --timeout is retried', async (t) => {
  // Poll 1 is held for a minute, so it is slower than any --timeout: a short one is safe on a loaded machine.
  const emulator = await emulatorFor(t, { ...FAST, faults: [{ call: 'poll', nth: 1, andLater: false, action: { kind: 'slow', delayMs: 60_000 } }] });
  const result = await runCli(['run', '--poll-interval', '0.1', '--timeout', '0.5', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Retry 1\/5 in .* after: GET .*(timeout|within 0\.5 s)/i);
});

test('--max-retries must be a whole number; nothing is sent otherwise', async (t) => {
  const emulator = await emulatorFor(t);
  const result = await runCli(['run', '--max-retries', 'many'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^bgprobe: --max-retries "many" must be a whole number from 0 to 50\n$/);
  assert.equal(emulator.requests.length, 0);
});
