import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT_TEXT_CAP } from '../src/job/summary.js';
import { emulatorFor, envFor, runCli, singleJsonObject, tempDir } from './helpers.js';

/** Pending for two polls, then the final status: no race with how fast the child starts. */
const SHORT = { pendingPolls: 2 } as const;

for (const [finalStatus, reason, jsonError] of [
  ['failed', 'server_error: The model failed to generate a response.', 'failed: server_error: The model failed to generate a response.'],
  ['incomplete', 'max_output_tokens', 'incomplete: max_output_tokens'],
] as const) {
  test(`a response that ends ${finalStatus} says why on stderr and in --json error, not only in the report`, async (t) => {
    const emulator = await emulatorFor(t, { ...SHORT, finalStatus });
    const dir = tempDir(t);
    const plain = await runCli(['run', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
    assert.equal(plain.code, 3, plain.stderr);
    assert.match(plain.stderr, new RegExp(`WARN  Response resp_\\w+ reached terminal status ${finalStatus} \\(${reason.replace(/\./g, '\\.')}\\)\\n`));
    assert.equal(plain.stdout, `Report written to: ${join(dir, 'r.md')}\nFinal status: ${finalStatus}\n`);

    const json = await runCli(['run', '--json', '--poll-interval', '0.05', '--output', 'j.md'], { cwd: dir, env: envFor(emulator) });
    assert.equal(json.code, 3, json.stderr);
    const summary = singleJsonObject(json.stdout);
    assert.equal(summary['error'], jsonError);
    assert.equal(summary['exit_code'], 3);
  });
}

test('a cancelled response, which carries no reason, has no error in --json', async (t) => {
  const emulator = await emulatorFor(t, { ...SHORT, finalStatus: 'cancelled' });
  const result = await runCli(['run', '--json', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 3, result.stderr);
  assert.equal(singleJsonObject(result.stdout)['error'], null);
});

test('the end of a run tells the time taken, the polls, the tokens and how the answer begins; stdout keeps its two lines', async (t) => {
  const emulator = await emulatorFor(t, { ...SHORT, outputText: 'First line of the answer.\nSecond line.\nThird.' });
  const dir = tempDir(t);
  const result = await runCli(['run', '--json', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 0, result.stderr);
  const summary = singleJsonObject(result.stdout);
  const usage = summary['usage'] as { input: number; output: number; reasoning: number; total: number };
  const totals = /INFO {2}Took (\d+\.\d)s and (\d+) polls; tokens (\d+) \(input (\d+), output (\d+) of which reasoning (\d+)\)\n/.exec(result.stderr);
  assert.ok(totals, result.stderr);
  assert.deepEqual(totals.slice(2).map(Number), [summary['polls'], usage.total, usage.input, usage.output, usage.reasoning]);
  assert.ok(Math.abs(Number(totals[1]) - (summary['elapsed_seconds'] as number)) < 0.2, 'the same elapsed time as --json');
  assert.match(result.stderr, /INFO {2}Answer begins: "First line of the answer\." \(3 lines; all of it is in the report\)\n$/);

  const twoLines = await runCli(['run', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(twoLines.stdout, `Report written to: ${join(dir, 'r.md')}\nFinal status: completed\n`);
  assert.match(twoLines.stderr, /Took .+ polls; tokens/);

  const quiet = await runCli(['run', '--quiet', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stderr, '', '--quiet leaves only errors');
});

test('--json names the base URL and carries the answer, cut past the cap with a flag saying so', async (t) => {
  const short = await emulatorFor(t, { ...SHORT, outputText: 'A short answer.' });
  const dir = tempDir(t);
  const result = await runCli(['run', '--json', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env: envFor(short) });
  assert.equal(result.code, 0, result.stderr);
  const summary = singleJsonObject(result.stdout);
  assert.equal(String(summary['base_url']).replace(/\/$/, ''), short.baseUrl);
  assert.equal(summary['output_text'], 'A short answer.');
  assert.equal(summary['output_text_truncated'], false);

  const long = `${'é'.repeat(OUTPUT_TEXT_CAP)}\n${'x'.repeat(5000)}`;
  const big = await emulatorFor(t, { ...SHORT, outputText: long });
  const cut = await runCli(['run', '--json', '--poll-interval', '0.05', '--output', 'big.md'], { cwd: dir, env: envFor(big) });
  assert.equal(cut.code, 0, cut.stderr);
  const cutSummary = singleJsonObject(cut.stdout);
  assert.equal(cutSummary['output_text'], long.slice(0, OUTPUT_TEXT_CAP));
  assert.equal(cutSummary['output_text_truncated'], true);
  assert.ok(readFileSync(join(dir, 'big.md'), 'utf8').includes('x'.repeat(5000)), 'the report keeps the whole answer');
});

test('--json of a run that never got an answer has null output text, not a missing key', async (t) => {
  const result = await runCli(['run', '--json', '--output', 'r.md', '--max-retries', '0'], { cwd: tempDir(t), env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } });
  assert.equal(result.code, 1, result.stderr);
  const summary = singleJsonObject(result.stdout);
  assert.equal(summary['output_text'], null);
  assert.equal(summary['output_text_truncated'], false);
  assert.equal(summary['base_url'], 'http://127.0.0.1:9/v1');
});
