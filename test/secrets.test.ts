import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { maskSecret, redactedSink, Redactor } from '../src/redact.js';
import { emulatorFor, runCli, runMain, tempDir, TEST_KEY } from './helpers.js';
import { startEchoingRefusalProxy } from './proxies.js';
import { assertNoSecret, errorLines, everyOutput } from './outputs.js';
import { afterCreate, answer, scriptedServer } from './scripted-server.js';

const MASKED = maskSecret(TEST_KEY);
const JSON_TYPE = { 'content-type': 'application/json' };

test('the masked key is sk-... and its last four characters', () => {
  assert.equal(MASKED, 'sk-...CRET');
});

test('a key that only .env holds is masked in the one-line error of main', async (t) => {
  const dir = tempDir(t);
  // The base URL is malformed and quotes the key: the error echoes what the user wrote.
  writeFileSync(join(dir, '.env'), `OPENAI_API_KEY=${TEST_KEY}\nOPENAI_BASE_URL=https://api.example/v1?key=${TEST_KEY}\n`);
  const result = await runCli(['run', '--output', 'r.md'], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assert.deepEqual(errorLines(result.stderr), [
    `bgprobe: OPENAI_BASE_URL "https://api.example/v1?key=${MASKED}" must not carry a query, fragment or credentials; give one such as https://api.openai.com/v1`,
  ]);
  assertNoSecret(everyOutput(result, dir), TEST_KEY);
});

test('a key from --env-file is masked when the API echoes it in an error message', async (t) => {
  const server = await scriptedServer(t, (req, res) => {
    const message = `Incorrect API key provided: ${TEST_KEY}. Your header was: Authorization: ${req.headers.authorization}`;
    answer(res, 401, JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }), JSON_TYPE);
  });
  const dir = tempDir(t);
  writeFileSync(join(dir, 'keys.env'), `OPENAI_API_KEY="${TEST_KEY}"\nOPENAI_BASE_URL=${server.baseUrl}\n`);
  for (const json of [false, true]) {
    const result = await runCli(['run', '--env-file', 'keys.env', '--output', 'r.md', ...(json ? ['--json'] : [])], { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(server.authorizations.at(-1), `Bearer ${TEST_KEY}`, 'the key itself went to the API');
    const [line] = errorLines(result.stderr);
    assert.equal(line, `bgprobe: POST /v1/responses failed: the API answered HTTP 401 invalid_request_error: Incorrect API key provided: ${MASKED}. Your header was: Authorization: Bearer ${MASKED}`);
    if (json) assert.equal(JSON.parse(result.stdout).error, line?.slice('bgprobe: '.length));
    assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /Incorrect API key provided: sk-\.\.\.CRET/);
    assertNoSecret(everyOutput(result, dir), TEST_KEY);
  }
});

test('a proxy page that echoes every request header leaks nothing, even after the response id is known', async (t) => {
  const server = await scriptedServer(
    t,
    afterCreate((req, res) => {
      const echo = Object.entries(req.headers).map(([name, value]) => `<li>${name}: ${String(value)}</li>`).join('\n');
      answer(res, 403, `<html><head><title>Request blocked</title></head><body><ul>\n${echo}\n</ul></body></html>`, { 'content-type': 'text/html' });
    }),
  );
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.05', '--output', 'r.md', '--json'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(errorLines(result.stderr).join('\n'), /retrieve \(GET \/v1\/responses\/resp_\w+\) was answered HTTP 403 by a web page that is not the OpenAI API \(an HTML page titled "Request blocked"\)/);
  assert.match(result.stderr, /resume with "bgprobe poll resp_\w+ --base-url /, 'the response id is never lost');
  assertNoSecret(everyOutput(result, dir), TEST_KEY);
});

test('a successful run with the key in .env shows it masked in the report and nowhere in full', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, inProgressMs: 50 });
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), `OPENAI_API_KEY='${TEST_KEY}'\n`);
  // A user who pastes the key where it does not belong still never sees it printed.
  const result = await runCli(['run', '--poll-interval', '0.05', '--output', 'r.md', '--prompt', `is ${TEST_KEY} my key?`], {
    cwd: dir,
    env: { OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 0, result.stderr);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /\| API key \| set \(sk-\.\.\.CRET\) \|/);
  assert.match(report, /is sk-\.\.\.CRET my key\?/);
  assertNoSecret(everyOutput(result, dir), TEST_KEY);
});

test('a redirect is never followed: the key reaches only the base URL, and the message names the target host', async (t) => {
  const dir = tempDir(t);
  const target = await scriptedServer(t, (_req, res) => answer(res, 200, '{}', JSON_TYPE));
  for (const status of [301, 302, 307, 308]) {
    const server = await scriptedServer(t, (_req, res) => answer(res, status, '', { location: `${target.baseUrl}/responses?stolen=1` }));
    const result = await runCli(['run', '--output', 'r.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl } });
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(errorLines(result.stderr), [
      `bgprobe: POST /v1/responses answered HTTP ${status}, a redirect to ${new URL(target.baseUrl).host}; bgprobe never follows redirects, so the API key goes nowhere else: check --base-url`,
    ]);
    assert.deepEqual(server.requests, ['POST /v1/responses']);
    assertNoSecret(everyOutput(result, dir), TEST_KEY);
  }
  assert.deepEqual(target.requests, [], 'the redirect target never heard from bgprobe');
});

test('the Redactor masks keys, bearer tokens and proxy credentials in any text', () => {
  const redactor = new Redactor().addEnvironment({
    OPENAI_API_KEY: ` ${TEST_KEY} `,
    HTTPS_PROXY: 'http://alice:s3cr%40t-proxy-pass@proxy.internal:3128',
    http_proxy: 'bob:hunter2-longer@proxy2:8080',
  });
  const cases: [string, string][] = [
    [`key=${TEST_KEY}`, `key=${MASKED}`],
    [JSON.stringify({ authorization: `Bearer ${TEST_KEY}` }), `{"authorization":"Bearer ${MASKED}"}`],
    ['Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123', 'Authorization: Bearer ab...0123'],
    ['via http://alice:s3cr%40t-proxy-pass@proxy.internal:3128', 'via http://alice:***@proxy.internal:3128'],
    // A proxy password and its Basic token are masked whole: no first or last characters.
    ['decoded s3cr@t-proxy-pass', 'decoded ***'],
    [`Proxy-Authorization: Basic ${Buffer.from('alice:s3cr@t-proxy-pass').toString('base64')}`, 'Proxy-Authorization: Basic ***'],
    ['password hunter2-longer leaked', 'password *** leaked'],
    ['a short one: https://u:pw@host/path', 'a short one: https://u:***@host/path'],
    ['nothing secret here: https://api.openai.com/v1', 'nothing secret here: https://api.openai.com/v1'],
  ];
  for (const [input, expected] of cases) assert.equal(redactor.apply(input), expected, input);
});

test('a redacted console stream masks every write and keeps everything else its stream offers', () => {
  const written: string[] = [];
  const stream = {
    isTTY: true,
    columns: 80,
    write(text: string) {
      written.push(text);
      return true;
    },
    /** Like a TTY stream's own methods, which write through `this`. */
    clearLine() {
      return this.write('\u001b[2K');
    },
  };
  const sink = redactedSink(stream, new Redactor().add(TEST_KEY));
  sink.write(`key ${TEST_KEY}\n`);
  assert.equal(sink.isTTY, true);
  assert.equal(sink.columns, 80);
  assert.equal(sink.clearLine(), true);
  assert.deepEqual(written, [`key ${MASKED}\n`, '\u001b[2K']);
});

test('a very short key echoed by the server is masked too', async (t) => {
  const server = await scriptedServer(t, (req, res) => {
    answer(res, 401, JSON.stringify({ error: { message: `Incorrect API key provided: sk-1 (${req.headers.authorization})`, type: 'invalid_request_error', param: null, code: null } }), JSON_TYPE);
  });
  const dir = tempDir(t);
  const result = await runMain(['run', '--output', 'r.md', '--json'], { OPENAI_API_KEY: 'sk-1', OPENAI_BASE_URL: server.baseUrl }, dir);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /Incorrect API key provided: \*\*\* \(Bearer \*\*\*\)/);
  for (const [name, text] of [['stdout', result.stdout], ['stderr', result.stderr], ['report', readFileSync(join(dir, 'r.md'), 'utf8')]]) {
    assert.doesNotMatch(text ?? '', /\bsk-1\b/, `${name} shows the key`);
  }
});

test('--proxy credentials are masked in every form: a password with an unencoded "/", and the Basic token a proxy echoes', async (t) => {
  // A proxy that refuses every CONNECT with a page echoing the request's headers, as some do.
  const port = await startEchoingRefusalProxy(t);
  const dir = tempDir(t);
  const password = 'pa/ss:w0rd';
  const token = Buffer.from(`alice:${password}`).toString('base64');
  // Unencoded: the URL is invalid, and its error line quotes it.
  const invalid = await runMain(['check', '--proxy', `http://alice:${password}@127.0.0.1:${port}`], { OPENAI_API_KEY: TEST_KEY }, dir);
  assert.equal(invalid.code, 2, invalid.stderr);
  assert.ok(!invalid.stderr.includes('pa/ss'), invalid.stderr);
  // Encoded: the proxy is used, sees the Basic token, and echoes it.
  const encoded = `http://alice:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  for (const args of [['check', '--json'], ['check'], ['run', '--output', 'r.md', '--max-retries', '0', '--json'], ['run', '--output', 'r.md', '--verbose']]) {
    const result = await runMain([...args, '--proxy', encoded, '--timeout', '10'], { OPENAI_API_KEY: TEST_KEY }, dir);
    assert.notEqual(result.code, 0);
    const outputs = [result.stdout, result.stderr, args[0] === 'run' ? readFileSync(join(dir, 'r.md'), 'utf8') : ''].join('\n');
    for (const secret of [token, password, encodeURIComponent(password), TEST_KEY]) {
      assert.ok(!outputs.includes(secret), `${args.join(' ')} shows ${secret}:\n${outputs}`);
    }
  }
});
