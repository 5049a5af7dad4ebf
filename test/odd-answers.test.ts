import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resumeHintFor, runCli, tempDir, TEST_KEY } from './helpers.js';
import { assertNoSecret, errorLines, everyOutput } from './outputs.js';
import { afterCreate, answer, CREATED_ID, scriptedServer, type Script } from './scripted-server.js';

const BLOCK_PAGE = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Access Denied\n by policy</title></head><body>Blocked</body></html>';

interface OddCase {
  readonly name: string;
  readonly script: Script;
  readonly args?: readonly string[];
  /** The one error line, after `bgprobe: `. */
  readonly message: RegExp;
}

/** Answers to the create call that the API would never send. */
const CREATE_CASES: readonly OddCase[] = [
  {
    name: 'an HTML page with 200',
    script: (_req, res) => answer(res, 200, BLOCK_PAGE, { 'content-type': 'text/html; charset=utf-8' }),
    message: /^create \(POST \/v1\/responses\) was answered HTTP 200 by a web page that is not the OpenAI API \(an HTML page titled "Access Denied by policy"\): "Access Denied by policy: Blocked"; something between this machine and 127\.0\.0\.1:\d+ answers in the API's place \(a captive portal, a login or block page\)/,
  },
  {
    name: 'an HTML block page with 403',
    script: (_req, res) => answer(res, 403, BLOCK_PAGE, { 'content-type': 'text/html' }),
    // No proxy is configured and the page carries no proxy's marks: not "blocked by a proxy".
    message: /^create \(POST \/v1\/responses\) was answered HTTP 403 by a web page that is not the OpenAI API \(an HTML page titled "Access Denied by policy"\): "Access Denied by policy: Blocked"; something between this machine/,
  },
  {
    name: 'a plain-text 502',
    script: (_req, res) => answer(res, 502, 'Bad Gateway', { 'content-type': 'text/plain' }),
    message: /^create \(POST \/v1\/responses\) was answered HTTP 502 by a server that is not the OpenAI API \(a text\/plain body without the API's envelope or headers\): "Bad Gateway"; if a gateway stands in front of 127\.0\.0\.1:\d+, it could not reach the API; else --base-url/,
  },
  {
    name: 'invalid JSON',
    script: (_req, res) => answer(res, 200, '{"id": "resp_1", "status": ', { 'content-type': 'application/json' }),
    message: /^POST \/v1\/responses answered HTTP 200 with invalid JSON \(.+\); the API always sends valid JSON$/,
  },
  {
    name: 'an empty 200 body',
    script: (_req, res) => answer(res, 200, '', { 'content-type': 'application/json' }),
    message: /^POST \/v1\/responses answered HTTP 200 with an empty body, where the API always sends a JSON Response; it did not come from the API \(no API marks: an application\/json body without the API's envelope or headers\): "\(empty body\)"; --base-url/,
  },
  {
    name: 'an empty 500 body',
    script: (_req, res) => answer(res, 500, ''),
    message: /^create \(POST \/v1\/responses\) was answered HTTP 500 by a server that is not the OpenAI API \(no API envelope or headers\): "\(empty body\)"/,
  },
  {
    name: 'a JSON body with the wrong content type',
    script: (_req, res) => answer(res, 200, JSON.stringify({ id: 'resp_1', status: 'queued' }), { 'content-type': 'text/plain' }),
    message: /^POST \/v1\/responses answered HTTP 200 with content type text\/plain, not JSON; it did not come from the API \(no API marks: a text\/plain body without the API's envelope or headers\): "\{"id":"resp_1","status":"queued"\}"; --base-url/,
  },
  {
    name: 'JSON that is not a Response',
    script: (_req, res) => answer(res, 200, '[1, 2, 3]', { 'content-type': 'application/json' }),
    message: /^POST \/v1\/responses answered HTTP 200 with JSON that is not a Response object \(no string "id"\); it did not come from the API \(no API marks: an application\/json body without the API's envelope or headers\): "\[1, 2, 3\]"/,
  },
  {
    name: 'a streamed body over --max-response-bytes',
    args: ['--max-response-bytes', '4096'],
    script: (_req, res) => {
      // No content-length: the cap must hold while reading, not only on a declared size.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"id":"resp_1","padding":"${'x'.repeat(3000)}`);
      setTimeout(() => res.end(`${'y'.repeat(3000)}"}`), 20);
    },
    message: /^POST \/v1\/responses answered HTTP 200 with a body over 4096 bytes \(the --max-response-bytes cap\); the API never sends that much, so something else answered$/,
  },
  {
    name: 'a declared body over the default 64 MiB cap',
    script: (_req, res) => {
      // Declares 64 MiB + 1 and sends only a little: refused on the header, nothing more is read.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024 + 1) });
      res.write('{"id":"resp_1"');
    },
    message: /^POST \/v1\/responses answered HTTP 200 with a body over 67108864 bytes \(the --max-response-bytes cap\)/,
  },
];

for (const c of CREATE_CASES) {
  test(`create answered with ${c.name}: one line, exit 1, no key anywhere`, async (t) => {
    const server = await scriptedServer(t, c.script);
    const dir = tempDir(t);
    const result = await runCli(['run', '--output', 'r.md', '--timeout', '5', ...(c.args ?? [])], {
      cwd: dir,
      env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl },
    });
    assert.equal(result.code, 1, result.stderr);
    const lines = errorLines(result.stderr);
    assert.equal(lines.length, 1, result.stderr);
    // A create that got no valid answer may still have started a job: the line says so after the cause.
    const [cause, mayHaveStarted] = lines[0]!.slice('bgprobe: '.length).split('. A background response may have been created anyway');
    assert.match(cause!, c.message);
    // A 4xx refusal started nothing; anything else may have (a 2xx, a 5xx not from the API, a cut-off body).
    const refused = /answered HTTP 4\d\d/.test(cause!);
    assert.equal(mayHaveStarted !== undefined, !refused, 'says that a job may have been created exactly when one may have');
    assert.deepEqual(server.requests, ['POST /v1/responses'], 'the create is never retried on such an answer');
    // The Final Status says what the event log says.
    const finalStatus = readFileSync(join(dir, 'r.md'), 'utf8').split('## Final Status')[1] ?? '';
    if (refused) assert.match(finalStatus, /\(none: no response was created\)/);
    else assert.match(finalStatus, /\(not known: a response may have been created; the create carried Idempotency-Key bgprobe-[0-9a-f-]{36}\)/);
    assertNoSecret(everyOutput(result, dir), TEST_KEY);
  });
}

test('a poll answered with an HTML page ends the run with one line and keeps the response id', async (t) => {
  const server = await scriptedServer(
    t,
    afterCreate((_req, res) => answer(res, 200, BLOCK_PAGE, { 'content-type': 'text/html' })),
  );
  const dir = tempDir(t);
  const result = await runCli(['run', '--output', 'r.md', '--poll-interval', '0.05'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(errorLines(result.stderr), [
    `bgprobe: retrieve (GET /v1/responses/${CREATED_ID}) was answered HTTP 200 by a web page that is not the OpenAI API (an HTML page titled "Access Denied by policy"): "Access Denied by policy: Blocked"; something between this machine and ${new URL(server.baseUrl).host} answers in the API's place (a captive portal, a login or block page): sign in or ask for ${new URL(server.baseUrl).host} to be allowed, or check --base-url; response ${CREATED_ID} may still be running: ${resumeHintFor(CREATED_ID, server.baseUrl)}`,
  ]);
  assert.ok(readFileSync(join(dir, 'r.md'), 'utf8').includes(`| Resume | bgprobe poll ${CREATED_ID} --base-url ${server.baseUrl} |`));
  assertNoSecret(everyOutput(result, dir), TEST_KEY);
});

test('a redirect with a relative Location says it stays on the same host', async (t) => {
  const server = await scriptedServer(t, (_req, res) => answer(res, 302, '', { location: '/login?next=/v1/responses' }));
  const dir = tempDir(t);
  const result = await runCli(['run', '--output', 'r.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl } });
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(errorLines(result.stderr), [
    'bgprobe: POST /v1/responses answered HTTP 302, a redirect to "/login?next=/v1/responses" on the same host; bgprobe never follows redirects, so the API key goes nowhere else: check --base-url',
  ]);
  assert.deepEqual(server.requests, ['POST /v1/responses']);
});

test('a server can neither forge log lines, nor send terminal escapes, nor flood the error line', async (t) => {
  const forged = '\u001b[2J\u001b]0;owned\u0007all good\n2026-01-01T00:00:00.000Z INFO  Response reached terminal status completed\r\nbgprobe: fine';
  const server = await scriptedServer(t, (_req, res) =>
    answer(res, 400, JSON.stringify({ error: { message: `${forged} ${'x'.repeat(5000)}`, type: 'invalid_request_error', param: null, code: null } }), {
      'content-type': 'application/json',
    }),
  );
  const dir = tempDir(t);
  const result = await runCli(['run', '--output', 'r.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.baseUrl } });
  assert.equal(result.code, 1, result.stderr);
  const lines = errorLines(result.stderr);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^bgprobe: POST \/v1\/responses failed: the API answered HTTP 400 invalid_request_error: \uFFFD\[2J\uFFFD\]0;owned\uFFFDall good 2026-01-01T00:00:00\.000Z INFO {2}Response reached/);
  assert.match(lines[0]!, /x{300}\.\.\. \(\d+ more characters\)$/);
  assert.ok(lines[0]!.length < 1000);
  for (const [name, text] of everyOutput(result, dir)) {
    assert.doesNotMatch(text, /[\u001b\u0007]/, `${name} carries a control character`);
    assert.doesNotMatch(text, /^2026-01-01T00:00:00\.000Z/m, `${name} shows a forged log line`);
  }
});
