import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { largeAnswer } from '../bench/large-answer.js';
import type { Usage } from '../bench/rusage.js';
import { BIN, emulatorFor, runNodeScript, tempDir, TEST_KEY } from './helpers.js';

/** The preload that writes the process's own CPU time and peak RSS at exit. */
const RUSAGE = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'rusage.js')).href;

test('a completed response with 20 MB of output text is reported within 250 MB of peak RSS', async (t) => {
  const answer = largeAnswer(20_000_000);
  const emulator = await emulatorFor(t, { queuedMs: 0, inProgressMs: 100, outputText: answer });
  const dir = tempDir(t);
  const usageFile = join(dir, 'usage.json');
  const result = await runNodeScript(
    BIN,
    ['run', '--poll-interval', '0.1', '--output', 'report.md'],
    { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl, BGPROBE_BENCH_RUSAGE: usageFile }, timeoutMs: 60_000 },
    ['--import', RUSAGE],
  );
  assert.equal(result.code, 0, result.stderr);
  const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as Usage;
  assert.ok(usage.maxRssMb <= 250, `peak RSS ${usage.maxRssMb.toFixed(1)} MB`);

  // The report holds the whole answer twice (the text and the payload), byte for byte.
  const answerBytes = Buffer.byteLength(answer);
  assert.ok(statSync(join(dir, 'report.md')).size > 2 * answerBytes);
  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  const output = report.split('## Final Model Output\n\n```text\n')[1]?.split('\n```\n')[0];
  assert.equal(output?.length, answer.length);
  assert.ok(output === answer, 'the output text is complete and unchanged');
});
