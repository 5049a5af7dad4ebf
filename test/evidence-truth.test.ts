import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { emulatorFor, runMain, tempDir, TEST_KEY } from './helpers.js';
import { reverseProxy } from './reverse-proxy.js';

/**
 * The run's evidence warning says the answers did not come from the OpenAI API's background
 * mode: it must not say so of an answer the API itself gives.
 */

/** The emulator behind a proxy that writes `answered` where the API's answers name the model `asked`. */
async function apiNaming(t: TestContext, asked: string, answered: string): Promise<string> {
  const emulator = await emulatorFor(t, { pendingPolls: 1 });
  return reverseProxy(t, emulator.baseUrl, (upstream, res) => {
    const chunks: Buffer[] = [];
    upstream.on('data', (chunk: Buffer) => chunks.push(chunk));
    upstream.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8').replaceAll(`"model":${JSON.stringify(asked)}`, `"model":${JSON.stringify(answered)}`);
      const headers = { ...upstream.headers, 'content-length': String(Buffer.byteLength(body)) };
      res.writeHead(upstream.statusCode ?? 502, headers);
      res.end(body);
    });
  });
}

async function runWithModel(t: TestContext, baseUrl: string, model: string): Promise<{ code: number; stderr: string; evidence: Record<string, unknown> }> {
  const run = await runMain(['run', '--json', '--model', model, '--poll-interval', '0.05', '--max-retries', '1', '--output', 'r.md', '--prompt', 'ping'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl }, tempDir(t));
  return { code: run.code, stderr: run.stderr, evidence: (JSON.parse(run.stdout) as { evidence: Record<string, unknown> }).evidence };
}

test('a create for gpt-4 answered as its older snapshot gpt-4-0613 (the API names those -MMDD) is the model asked for, with no warning', async (t) => {
  const baseUrl = await apiNaming(t, 'gpt-4', 'gpt-4-0613');
  const run = await runWithModel(t, baseUrl, 'gpt-4');
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.evidence['create'], { background: true, status: 'queued', model: 'gpt-4-0613', model_asked: 'gpt-4', model_matches: true });
  assert.equal(run.evidence['warning'], null);
  assert.doesNotMatch(run.stderr, /not the OpenAI API's background mode/i);

  // Another model still does not pass for the one asked for.
  const other = await runWithModel(t, await apiNaming(t, 'gpt-4', 'gpt-4o-2024-05-13'), 'gpt-4');
  assert.equal((other.evidence['create'] as Record<string, unknown>)['model_matches'], false);
  assert.match(String(other.evidence['warning']), /model "gpt-4o-2024-05-13" where "gpt-4" was asked for/);
});
