import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { callsOf, createResponseOn, emulatorFor, envFor, runCli, sections, singleJsonObject, tempDir, TEST_KEY } from './helpers.js';

test('poll attaches to a response made elsewhere and follows it to completed, with the report run writes', async (t) => {
  // The first two GETs (the attach and poll 1) see in_progress whatever the clock says, so the
  // test does not depend on how fast the child process starts.
  const stillRunning = { kind: 'set-status', status: 'in_progress' } as const;
  const emulator = await emulatorFor(t, {
    queuedMs: 0,
    inProgressMs: 0,
    faults: [1, 2].map((nth) => ({ call: 'poll' as const, nth, andLater: false, action: stillRunning })),
  });
  const id = await createResponseOn(emulator);
  const dir = tempDir(t);
  const result = await runCli(['poll', id, '--poll-interval', '0.1', '--output', 'p.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split('\n'), [`Report written to: ${join(dir, 'p.md')}`, 'Final status: completed']);
  assert.match(result.stderr, new RegExp(`Response ${id}: status in_progress`));
  assert.match(result.stderr, /Poll 1: status in_progress .*\n.*Poll 2: status completed/);
  assert.equal(callsOf(emulator).creates, 1, 'poll never creates');
  const report = readFileSync(join(dir, 'p.md'), 'utf8');
  assert.deepEqual(sections(report), ['Run Configuration', 'Prompt Used', 'Event Log', 'Outbound Requests', 'Final Status', 'Final Model Output', 'Final Response Payload']);
  assert.match(report, new RegExp(`\\| Command \\| poll ${id} \\|`));
  assert.match(report, /You asked: "made elsewhere"/);
  assert.ok(!report.includes(TEST_KEY));
});

test('poll --json prints the same object as run', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, inProgressMs: 50, finalStatus: 'failed' });
  const id = await createResponseOn(emulator);
  const dir = tempDir(t);
  const result = await runCli(['poll', id, '--poll-interval', '0.1', '--json'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 3, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(summary), ['id', 'status', 'model', 'base_url', 'report', 'polls', 'elapsed_seconds', 'usage', 'output_text', 'output_text_truncated', 'exit_code', 'error', 'create_may_exist', 'evidence', 'resume_command', 'cancel_command', 'blocked_by', 'possibly_blocked_by']);
  assert.equal(summary.id, id);
  assert.equal(summary.status, 'failed');
  assert.equal(summary.exit_code, 3);
  assert.equal(summary.report, join(dir, 'scratchpad', `poll_${id}.md`), "never run's default report");
});

test('poll --max-wait exits 4 and says how to resume; --base-url wins over the environment', async (t) => {
  // The attach and poll 1 are answered and every later GET held, so --max-wait ends a known wait (counted polls, not a race).
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: parseFaults('poll3+=slow:60000') });
  const id = await createResponseOn(emulator);
  const result = await runCli(['poll', id, '--poll-interval', '0.1', '--max-wait', '2', '--base-url', emulator.baseUrl], {
    cwd: tempDir(t),
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' },
  });
  assert.equal(result.code, 4, result.stderr);
  assert.match(result.stderr, / Poll 1: status in_progress/);
  assert.doesNotMatch(result.stderr, / Poll 2:/, 'the deadline ended the held poll');
  assert.match(result.stderr, new RegExp(`resume with "bgprobe poll ${id} --base-url [^"]+"`));
});

test('poll of an id the API does not know says so in one line, exits 1 and leaves no report behind', async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  const result = await runCli(['poll', 'resp_unknown'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr.trim().split('\n').at(-1)!,
    /^bgprobe: the API does not know response resp_unknown \(GET \/v1\/responses\/resp_unknown: HTTP 404 "Response with id 'resp_unknown' not found\.", x-request-id req_\w+\); check the id, and that the API key belongs to the project that created the response\. No report was written$/,
  );
  assert.equal(result.stdout, '', 'no "Report written to" line');
  assert.ok(!existsSync(join(dir, 'scratchpad', 'poll_resp_unknown.md')), 'no report for an id that does not exist');
  assert.equal(callsOf(emulator).polls, 1, '404 is not retried');
  assert.doesNotMatch(result.stderr, /may still be running/, 'an id the API does not know is not "still running"');

  // A file already at --output is left as it was, and --json gets the one error object.
  writeFileSync(join(dir, 'kept.md'), 'an older report\n');
  const json = await runCli(['poll', 'resp_unknown', '--output', 'kept.md', '--json'], { cwd: dir, env: envFor(emulator) });
  assert.equal(json.code, 1);
  assert.deepEqual(Object.keys(singleJsonObject(json.stdout)), ['error', 'exit_code']);
  assert.match(String(singleJsonObject(json.stdout)['error']), /^the API does not know response resp_unknown /);
  assert.equal(readFileSync(join(dir, 'kept.md'), 'utf8'), 'an older report\n');
});

test("poll's 404 that is not about the id (a wrong base path) is not called an unknown id, and keeps its report", async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  const id = await createResponseOn(emulator);
  const result = await runCli(['poll', id, '--output', 'p.md', '--base-url', emulator.baseUrl.replace(/\/v1$/, '/v2')], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.doesNotMatch(result.stderr, /does not know response/);
  assert.match(readFileSync(join(dir, 'p.md'), 'utf8'), /Invalid URL/);
});

test('poll without an id, or with a malformed one, is a usage error and sends nothing', async (t) => {
  const emulator = await emulatorFor(t);
  for (const args of [['poll'], ['poll', 'resp 1'], ['poll', '../x'], ['poll', 'a', 'b']]) {
    const result = await runCli(args, { cwd: tempDir(t), env: envFor(emulator) });
    assert.equal(result.code, 2, args.join(' '));
    assert.equal(result.stderr.split('\n').length, 2, 'one line');
  }
  assert.equal(emulator.requests.length, 0);
});

test('poll without a key writes its report and keeps the id, as run does, and sends nothing', async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  const id = 'resp_made_elsewhere_0001';
  const result = await runCli(['poll', id, '--output', 'p.md', '--json'], { cwd: dir, env: { OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(emulator.requests.length, 0);
  const summary = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(summary['id'], id);
  assert.match(String(summary['error']), /OPENAI_API_KEY is not set/);
  const report = readFileSync(join(dir, 'p.md'), 'utf8');
  assert.match(report, new RegExp(`Response id: \`${id}\``));
  assert.match(report, /\[ERROR\] OPENAI_API_KEY is not set/);
});
