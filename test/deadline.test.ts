import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { callsOf, emulatorFor, envFor, resumeHintFor, runCli, tempDir } from './helpers.js';

/**
 * The emulator answers the first poll and holds every later one for a minute, so when --max-wait
 * passes the run is known to be waiting on poll 2, however slow the machine: counted polls, not a
 * race between the deadline and the schedule. --max-wait stays well above a create and one poll.
 */
const HELD_AFTER_ONE_POLL = { queuedMs: 50, neverFinish: true, faults: parseFaults('poll2+=slow:60000') };

test('--max-wait passing before a terminal status exits 4 with the id and the resume command; the response keeps running', async (t) => {
  const emulator = await emulatorFor(t, HELD_AFTER_ONE_POLL);
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '2', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  assert.match(result.stderr, / Poll 1: status (queued|in_progress)/);
  assert.doesNotMatch(result.stderr, / Poll 2:/, 'the deadline ended the held second poll');
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.equal(last, `bgprobe: --max-wait 2 s passed before a terminal status; response ${id} is still running: ${resumeHintFor(id, emulator.baseUrl)}`);
  assert.equal(callsOf(emulator).cancels, 0);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /\| Status \| stopped: --max-wait 2 s passed before a terminal status: the response is still running; last seen (queued|in_progress) \|/);
  assert.match(report, new RegExp(`\\| Resume \\| bgprobe poll ${id} --base-url \\S+ \\|`));
  assert.match(result.stdout, /Final status: (queued|in_progress)\n$/);
});

test('--cancel-on-timeout sends the cancel first and reports its answer', async (t) => {
  const emulator = await emulatorFor(t, HELD_AFTER_ONE_POLL);
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '2', '--cancel-on-timeout', '--output', 'r.md', '--json'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  assert.equal(callsOf(emulator).cancels, 1);
  assert.match(result.stderr, /Cancel answered HTTP 200: response resp_\w+ is now cancelled/);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.status, 'cancelled');
  assert.equal(summary.exit_code, 4);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /cancelled on request \(--cancel-on-timeout\); last seen cancelled/);
  // The timeline ends with the status the cancel's answer showed, in the diagram and the table.
  assert.match(report, /\+\d+\.\d s : cancelled \(cancel\)\n```/);
  assert.match(report, /\| cancelled \| cancel \|\n/);
});

test('--cancel-on-timeout whose cancel answer does not show cancelled does not call the response "cancelled on request"', async (t) => {
  // The API may answer the cancel with the response still running (it takes effect later) or
  // already ended another way (it finished first): either way it was not cancelled, as seen.
  for (const [shown, rest] of [
    ['in_progress', ': the response is still running; last seen in_progress'],
    ['completed', '; last seen completed'],
  ] as const) {
    const emulator = await emulatorFor(t, { ...HELD_AFTER_ONE_POLL, faults: parseFaults(`poll2+=slow:60000,cancel1=status:${shown}`) });
    const dir = tempDir(t);
    const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '2', '--cancel-on-timeout', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
    assert.equal(result.code, 4, result.stderr);
    assert.equal(callsOf(emulator).cancels, 1);
    const report = readFileSync(join(dir, 'r.md'), 'utf8');
    assert.doesNotMatch(report, /cancelled on request/, shown);
    const said = shown === 'completed' ? `the cancel was sent (--cancel-on-timeout), but the response had ended as completed` : `the cancel was sent (--cancel-on-timeout) and answered, but the response still showed in_progress`;
    assert.ok(report.includes(`| Status | stopped: --max-wait 2 s passed before a terminal status; ${said}${rest} |`), report.split('## Final Status')[1]?.slice(0, 400));
  }
});

test('--cancel-on-timeout whose cancel got no answer does not say the response "is still running": the cancel may have taken effect', async (t) => {
  // A loopback intermediary: passes the create and the first poll on, holds every later poll, and
  // passes the cancel on but drops its answer, so the emulator has in fact cancelled the response.
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true });
  const upstream = new URL(emulator.baseUrl);
  let gets = 0;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'GET' && ++gets > 1) {
      held.push(res);
      return;
    }
    const cancel = req.url?.endsWith('/cancel') === true;
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (cancel) {
        answer.resume();
        answer.on('end', () => res.socket?.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const res of held) res.socket?.destroy();
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const dir = tempDir(t);
  const env = { ...envFor(emulator), OPENAI_BASE_URL: baseUrl };
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '2', '--cancel-on-timeout', '--max-retries', '0', '--timeout', '3', '--output', 'r.md'], { cwd: dir, env });
  assert.equal(result.code, 4, result.stderr);
  assert.equal(callsOf(emulator).cancels, 1);
  assert.match(result.stderr, /Cancel failed: /);
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.doesNotMatch(last, /is still running/);
  assert.match(last, new RegExp(`response ${id} may still be running: resume with "bgprobe poll ${id} `));
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.doesNotMatch(report, /the response is still running/);
  assert.match(report, /\| Status \| stopped: --max-wait 2 s passed before a terminal status; the cancel call failed \(--cancel-on-timeout\): the response may still be running \(the cancel failed after it was sent: it may have taken effect\); last seen (queued|in_progress) \|/);
});

test('--cancel-on-timeout whose cancel the API refused still says the response "is still running": a refusal cancelled nothing', async (t) => {
  const emulator = await emulatorFor(t, { ...HELD_AFTER_ONE_POLL, faults: parseFaults('poll2+=slow:60000,cancel1=400') });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '2', '--cancel-on-timeout', '--max-retries', '0', '--timeout', '3', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  assert.equal(callsOf(emulator).cancels, 1);
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  assert.match(result.stderr.trim().split('\n').at(-1)!, new RegExp(`response ${id} is still running: resume with `));
  assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /the cancel call failed \(--cancel-on-timeout\): the response is still running; last seen/);
});

test('--cancel-on-timeout without --max-wait is a usage error and sends nothing', async (t) => {
  const emulator = await emulatorFor(t);
  const result = await runCli(['run', '--cancel-on-timeout'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^bgprobe: --cancel-on-timeout needs --max-wait SECONDS/);
  assert.equal(emulator.requests.length, 0);
});

test('--max-wait ends a retry wait at once', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, faults: [{ call: 'poll', nth: 1, andLater: true, action: { kind: 'status', status: 503, retryAfter: '30' } }] });
  const started = Date.now();
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '2', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  assert.match(result.stderr, /Retry 1\/5 in 30\.0 s/);
  assert.ok(Date.now() - started < 20_000, 'did not sit out the 30 s Retry-After');
});
