import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasScript, runCli, runCliInPty, runMain, tempDir, TEST_KEY } from './helpers.js';
import { afterCreate, answer, CREATED_ID, scriptedServer } from './scripted-server.js';

/** A status that would retitle the terminal and clear the screen if printed as it is. */
const HOSTILE_STATUS = 'weird\u001b]0;pwned\u0007\u001b[2J';
const ESCAPE = '\u001b';

async function hostileServer(t: import('node:test').TestContext) {
  return scriptedServer(
    t,
    afterCreate((_req, res) => {
      const body = { id: CREATED_ID, object: 'response', created_at: 1764140000, status: HOSTILE_STATUS, background: true, model: 'gpt-5.2', output: [] };
      answer(res, 200, JSON.stringify(body), { 'content-type': 'application/json', 'x-request-id': 'req_scripted' });
    }),
  );
}

test('a status with escape sequences reaches stdout folded, never as escape codes (run and cancel)', async (t) => {
  const server = await hostileServer(t);
  const dir = tempDir(t);
  const env = { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl };
  const run = await runCli(['run', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env });
  assert.equal(run.code, 3, run.stderr);
  assert.ok(!run.stdout.includes(ESCAPE) && !run.stdout.includes('\u0007'), JSON.stringify(run.stdout));
  assert.match(run.stdout, /^Final status: weird\uFFFD\]0;pwned\uFFFD\uFFFD\[2J$/m);
  const cancel = await runCli(['cancel', CREATED_ID], { cwd: dir, env });
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.ok(!cancel.stdout.includes(ESCAPE), JSON.stringify(cancel.stdout));
});

test('--json still carries the status exactly, JSON-escaped', async (t) => {
  const server = await hostileServer(t);
  const result = await runCli(['run', '--json', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: tempDir(t), env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl } });
  assert.equal((JSON.parse(result.stdout) as { status: string }).status, HOSTILE_STATUS);
});

test('on a terminal, the live line shows such a status without its escape sequences', { skip: !hasScript() && 'util-linux script is not installed' }, async (t) => {
  const server = await hostileServer(t);
  const { output } = await runCliInPty(['run', '--no-color', '--poll-interval', '0.05', '--output', 'r.md'], {
    cwd: tempDir(t),
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl },
  });
  assert.ok(!output.includes(ESCAPE), JSON.stringify(output.slice(0, 2000)));
});

test('a response id with escape sequences is folded in the one error line that names it', async (t) => {
  const hostileId = 'resp_\u001b[2J\u001b]0;pwned\u0007';
  const server = await scriptedServer(t, (_req, res, index) => {
    if (index > 0) return answer(res, 400, JSON.stringify({ error: { message: 'Bad poll.', type: 'invalid_request_error', param: null, code: null } }), { 'content-type': 'application/json', 'x-request-id': 'req_scripted' });
    const queued = { id: hostileId, object: 'response', created_at: 1764140000, status: 'queued', background: true, model: 'gpt-5.2', output: [] };
    answer(res, 200, JSON.stringify(queued), { 'content-type': 'application/json', 'x-request-id': 'req_scripted' });
  });
  const result = await runCli(['run', '--quiet', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: tempDir(t), env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl } });
  assert.equal(result.code, 1, result.stderr);
  assert.ok(!result.stderr.includes(ESCAPE) && !result.stderr.includes('\u0007'), JSON.stringify(result.stderr));
  assert.match(result.stderr, /resume with "bgprobe poll 'resp_\uFFFD\[2J\uFFFD\]0;pwned\uFFFD' --base-url [^"]+"/);
});

test('a status with line breaks adds no line to stdout, no section to the report and no escape code to either', async (t) => {
  const forged = 'failed\nFinal status: completed\n\n## Forged Section\n\u001b[2J';
  const server = await scriptedServer(
    t,
    afterCreate((_req, res) => {
      const body = { id: CREATED_ID, object: 'response', created_at: 1764140000, status: forged, background: true, model: 'gpt-5.2', output: [] };
      answer(res, 200, JSON.stringify(body), { 'content-type': 'application/json', 'x-request-id': 'req_scripted' });
    }),
  );
  const dir = tempDir(t);
  const run = await runMain(['run', '--poll-interval', '0.05', '--output', 'r.md'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl }, dir);
  assert.equal(run.code, 3, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2, run.stdout);
  assert.equal(lines.filter((line) => line.startsWith('Final status:')).length, 1);
  assert.ok(!run.stdout.includes(ESCAPE) && !run.stderr.includes(ESCAPE));
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.doesNotMatch(report, /^## Forged Section/m);
  assert.doesNotMatch(report, /^Final status: completed/m);
  assert.ok(!report.includes(ESCAPE), 'no escape code in the report');
});
