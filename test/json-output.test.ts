import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { emulatorFor, runCli, singleJsonObject, tempDir, TEST_KEY } from './helpers.js';

/** The keys of run's --json object, always all present, so CI never has to test for one. */
const RUN_KEYS = ['id', 'status', 'model', 'base_url', 'report', 'polls', 'elapsed_seconds', 'usage', 'output_text', 'output_text_truncated', 'exit_code', 'error', 'create_may_exist', 'evidence', 'resume_command', 'cancel_command', 'blocked_by', 'possibly_blocked_by'].sort();

test('run --json prints one object with id, status, model, report, polls, elapsed, usage and exit code', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, inProgressMs: 100 });
  const dir = tempDir(t);
  const result = await runCli(['run', '--json', '--poll-interval', '0.05', '--output', 'r.md', '--model', 'gpt-test'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 0, result.stderr);
  const summary = singleJsonObject(result.stdout);
  assert.deepEqual(Object.keys(summary).sort(), RUN_KEYS);
  const created = JSON.parse(emulator.requests.find((r) => r.method === 'POST')!.body) as { model: string };
  assert.equal(created.model, 'gpt-test');
  assert.match(String(summary['id']), /^resp_/);
  assert.equal(summary['status'], 'completed');
  assert.equal(summary['model'], 'gpt-test');
  assert.equal(summary['report'], join(dir, 'r.md'));
  assert.equal(summary['polls'], emulator.requests.filter((r) => r.method === 'GET').length);
  assert.equal(typeof summary['elapsed_seconds'], 'number');
  assert.ok((summary['elapsed_seconds'] as number) > 0);
  // The usage is the final Response's, as the report's raw payload shows it.
  const payload = JSON.parse(readFileSync(join(dir, 'r.md'), 'utf8').split('## Final Response Payload')[1]!.split(/^```json$/m)[1]!.split(/^```$/m)[0]!);
  assert.deepEqual(summary['usage'], {
    input: payload.usage.input_tokens,
    output: payload.usage.output_tokens,
    reasoning: payload.usage.output_tokens_details.reasoning_tokens,
    total: payload.usage.total_tokens,
  });
  assert.equal(typeof payload.usage.total_tokens, 'number');
  assert.equal(summary['exit_code'], 0);
  assert.equal(summary['error'], null);
  assert.ok(!result.stdout.includes('Report written to'), 'the two summary lines are replaced, not added');
});

test('run --json reports a non-completed terminal status with exit code 3 inside and outside', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 30, inProgressMs: 60, finalStatus: 'failed' });
  const dir = tempDir(t);
  const result = await runCli(['run', '--json', '--poll-interval', '0.05', '--output', 'r.md'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 3, result.stderr);
  const summary = singleJsonObject(result.stdout);
  assert.deepEqual(Object.keys(summary).sort(), RUN_KEYS);
  assert.equal(summary['status'], 'failed');
  assert.equal(summary['exit_code'], 3);
  assert.equal(summary['error'], 'failed: server_error: The model failed to generate a response.', "the API's reason for the outcome");
});

test('run --json without a key still prints exactly one object, with the error, and sends nothing', async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  const result = await runCli(['run', '--json', '--output', 'r.md'], { cwd: dir, env: { OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 1);
  const summary = singleJsonObject(result.stdout);
  assert.deepEqual(Object.keys(summary).sort(), RUN_KEYS);
  assert.equal(summary['id'], null);
  assert.equal(summary['status'], null);
  assert.equal(summary['polls'], 0);
  assert.equal(summary['usage'], null);
  assert.equal(summary['exit_code'], 1);
  assert.match(String(summary['error']), /OPENAI_API_KEY is not set/);
  assert.match(result.stderr, /^bgprobe: OPENAI_API_KEY is not set/m);
  assert.equal(emulator.requests.length, 0);
});

test('run --json with a bad flag value prints one error object, exits 2 and sends nothing', async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  const result = await runCli(['run', '--json', '--poll-interval', '0'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 2);
  assert.deepEqual(singleJsonObject(result.stdout), { error: '--poll-interval "0" must be greater than 0; give a positive number of seconds such as 10 or 0.5', exit_code: 2 });
  assert.equal(result.stderr.trim().split('\n').length, 1, 'one line on stderr');
  assert.equal(emulator.requests.length, 0);
});

test('without --json a usage error leaves stdout empty', async (t) => {
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', 'soon'], { cwd: dir });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
});

test('the API key never reaches the --json object, even in an error from the API', async (t) => {
  const emulator = await emulatorFor(t, { acceptKey: () => false });
  const dir = tempDir(t);
  const result = await runCli(['run', '--json', '--output', 'r.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 1);
  const summary = singleJsonObject(result.stdout);
  assert.match(String(summary['error']), /HTTP 401/);
  assert.ok(!result.stdout.includes(TEST_KEY) && !result.stderr.includes(TEST_KEY));
});
