import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { maskSecret } from '../src/redact.js';
import { runMain, tempDir, TEST_KEY } from './helpers.js';
import { startEchoingRefusalProxy } from './proxies.js';
import { errorLines } from './outputs.js';
import { answer, scriptedServer } from './scripted-server.js';

// cancel and check used to mask their own output with a redactor of their own; now only main's
// stdout and stderr do. These show a user sees the same: one error line, one JSON object, no secret.

const MASKED = maskSecret(TEST_KEY);

test('cancel: a key that only .env holds, echoed by the API, is masked in the one error line and the one --json object', async (t) => {
  const server = await scriptedServer(t, (req, res) => {
    const message = `Incorrect API key provided: ${TEST_KEY}. Your header was: Authorization: ${req.headers.authorization}`;
    answer(res, 401, JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }), { 'content-type': 'application/json' });
  });
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), `OPENAI_API_KEY=${TEST_KEY}\nOPENAI_BASE_URL=${server.baseUrl}\n`);
  for (const json of [false, true]) {
    const result = await runMain(['cancel', 'resp_abc', ...(json ? ['--json'] : [])], {}, dir);
    assert.equal(result.code, 1, result.stderr);
    const lines = errorLines(result.stderr);
    assert.equal(lines.length, 1, result.stderr);
    assert.equal(lines[0], `bgprobe: GET /v1/responses/resp_abc failed: the API answered HTTP 401 invalid_request_error: Incorrect API key provided: ${MASKED}. Your header was: Authorization: Bearer ${MASKED}`);
    if (json) {
      const out = JSON.parse(result.stdout) as Record<string, unknown>;
      assert.deepEqual(out, { id: 'resp_abc', status: null, was_terminal: null, exit_code: 1, error: lines[0]?.slice('bgprobe: '.length) });
    } else assert.equal(result.stdout, '');
    assert.ok(!`${result.stdout}${result.stderr}`.includes(TEST_KEY));
  }
});

test('cancel and check behind a proxy from .env that echoes Proxy-Authorization: one error line, one JSON object, no password in any form', async (t) => {
  const port = await startEchoingRefusalProxy(t);
  const password = 'dotenv-proxy-s3cret';
  const token = Buffer.from(`alice:${password}`).toString('base64');
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), `OPENAI_API_KEY=${TEST_KEY}\nHTTPS_PROXY=http://alice:${password}@127.0.0.1:${port}\n`);
  for (const args of [['cancel', 'resp_abc', '--json'], ['cancel', 'resp_abc'], ['check', '--json'], ['check']]) {
    const result = await runMain([...args, '--timeout', '10'], {}, dir);
    assert.notEqual(result.code, 0, result.stderr);
    if (args[0] === 'cancel') assert.equal(errorLines(result.stderr).length, 1, result.stderr);
    if (args.includes('--json')) assert.doesNotThrow(() => JSON.parse(result.stdout), `stdout is one JSON object:\n${result.stdout}`);
    const outputs = `${result.stdout}\n${result.stderr}`;
    assert.match(outputs, /403/, 'the proxy answered');
    for (const secret of [token, password, TEST_KEY]) assert.ok(!outputs.includes(secret), `${args.join(' ')} shows ${secret}:\n${outputs}`);
  }
});
