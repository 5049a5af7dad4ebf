import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { emulatorFor, runCli, sections, tempDir, TEST_KEY } from './helpers.js';

const FAST = { queuedMs: 50, inProgressMs: 100 };

for (const [finalStatus, exitCode] of [
  ['completed', 0],
  ['failed', 3],
  ['cancelled', 3],
  ['incomplete', 3],
  ['expired', 3],
] as const) {
  test(`a response that ends ${finalStatus} exits ${exitCode} and says so`, async (t) => {
    const emulator = await emulatorFor(t, { ...FAST, finalStatus });
    const dir = tempDir(t);
    const result = await runCli(['run', '--poll-interval', '0.05', '--output', 'r.md'], {
      cwd: dir,
      env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
    });
    assert.equal(result.code, exitCode, result.stderr);
    assert.equal(result.stdout.trim().split('\n').at(-1), `Final status: ${finalStatus}`);
    const report = readFileSync(join(dir, 'r.md'), 'utf8');
    assert.match(report, new RegExp(`\\| Status \\| ${finalStatus}`));
    assert.ok(sections(report).includes('Final Response Payload'));
    if (finalStatus === 'failed') assert.match(report, /\| Error \| server_error: The model failed/);
    if (finalStatus === 'incomplete') assert.match(report, /\| Incomplete reason \| max_output_tokens \|/);
    if (finalStatus === 'expired') assert.match(report, /not a status the API documents/);
  });
}

test('a missing API key gives one clear line, an error event in the report, exit 1 and no request', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const dir = tempDir(t);
  const result = await runCli(['run', '--output', 'r.md'], { cwd: dir, env: { OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 1);
  assert.equal(emulator.requests.length, 0);
  const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('bgprobe:'));
  assert.equal(errorLines.length, 1);
  assert.match(errorLines[0]!, /OPENAI_API_KEY is not set/);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  // The header was written before the key was checked, then the error event.
  assert.ok(sections(report).slice(0, 3).join() === 'Run Configuration,Prompt Used,Event Log');
  assert.match(report, /\[ERROR\] OPENAI_API_KEY is not set/);
  assert.match(report, /\| API key \| not set \|/);
});

test('a .env file supplies the key, and a real environment variable wins over it', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const dir = tempDir(t);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, '.env'), `OPENAI_API_KEY="${TEST_KEY}"\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\n`);
  const result = await runCli(['run', '--poll-interval', '0.05', '--output', 'r.md'], {
    cwd: dir,
    env: { OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(emulator.requests[0]?.headers['authorization'], `Bearer ${TEST_KEY}`);
});

test('a model answer containing ``` cannot break the report', async (t) => {
  const answer = 'Here is code:\n```js\nconsole.log(1)\n```\nand a longer fence: ````\nend';
  const emulator = await emulatorFor(t, { ...FAST, outputText: answer });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.05', '--output', 'r.md'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 0, result.stderr);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  const output = report.split('## Final Model Output\n\n')[1]!.split('\n## Final Response Payload')[0]!;
  const fence = /^(`+)text\n/.exec(output)?.[1] ?? '';
  assert.ok(fence.length >= 5, 'the fence must be longer than the four backticks in the answer');
  assert.ok(output.startsWith(`${fence}text\n${answer}\n${fence}\n`), 'the answer is kept verbatim, fenced');
  // Below it, the answer rendered as Markdown, in a collapsible section of its own.
  assert.ok(output.trimEnd().endsWith('\nend\n\n</details>'), output);
  // Every section still parses as a heading: nothing was swallowed by an open fence.
  assert.deepEqual(sections(report).slice(-3), ['Final Status', 'Final Model Output', 'Final Response Payload']);
});

test('the report folder is created when it does not exist yet', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.05', '--output', 'deep/er/report.md'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(existsSync(join(dir, 'deep/er/report.md')));
});

test('--emulator runs the whole job with no key and no network', async (t) => {
  const dir = tempDir(t);
  const result = await runCli(['run', '--emulator', '--poll-interval', '0.2'], { cwd: dir, env: {} });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Final status: completed/);
  assert.ok(existsSync(join(dir, 'scratchpad/background_mode_gpt52_test_report.md')));
});
