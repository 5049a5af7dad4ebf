import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { emulatorFor, runCli, tempDir, TEST_KEY } from './helpers.js';
import { assertNoSecret, errorLines, everyOutput } from './outputs.js';

const FAST = { queuedMs: 50, inProgressMs: 50 };
const RUN = ['run', '--poll-interval', '0.05', '--output', 'r.md', '--prompt', 'hi'];

test('a malformed .env never crashes the run: dotenv skips what it cannot read', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const dir = tempDir(t);
  const junk = [
    'this line has no equals sign',
    '=value-without-a-name',
    'BROKEN="never closed',
    '\u0000\u0001\u00ff binary junk \uFFFD',
    '   ',
    '# a comment',
    `export OPENAI_API_KEY=${TEST_KEY}`,
    "STRAY='quote",
    'EMPTY=',
  ].join('\n');
  writeFileSync(join(dir, '.env'), junk);
  const result = await runCli(RUN, { cwd: dir, env: { OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(emulator.requests[0]?.headers['authorization'], `Bearer ${TEST_KEY}`);
  assertNoSecret(everyOutput(result, dir), TEST_KEY);
});

test('quoted values, comments, spaces and CRLF line ends work as dotenv defines them', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const dir = tempDir(t);
  const lines = [`OPENAI_API_KEY="${TEST_KEY}"   # the CI key`, "OPENAI_ORG_ID='org with spaces'", 'OPENAI_PROJECT_ID=  proj spaced value  ', `OPENAI_BASE_URL=${emulator.baseUrl}`];
  writeFileSync(join(dir, '.env'), `${lines.join('\r\n')}\r\n`);
  const result = await runCli(RUN, { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const headers = emulator.requests[0]!.headers;
  assert.equal(headers['authorization'], `Bearer ${TEST_KEY}`);
  assert.equal(headers['openai-organization'], 'org with spaces');
  assert.equal(headers['openai-project'], 'proj spaced value');
  assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /\| Base URL \| http:\/\/127\.0\.0\.1:\d+\/v1 \(OPENAI_BASE_URL \(\.env\)\) \|/);
  assertNoSecret(everyOutput(result, dir), TEST_KEY);
});

test('a real environment variable always wins over .env, and both keys stay secret', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const dir = tempDir(t);
  const realKey = 'sk-REAL-9876543210ZYXWVUTSRQPONMLKJIHGFEDCBA-KEY';
  writeFileSync(join(dir, '.env'), `OPENAI_API_KEY=${TEST_KEY}\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\n`);
  const result = await runCli([...RUN, '--json'], { cwd: dir, env: { OPENAI_API_KEY: realKey, OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(emulator.requests.every((r) => r.headers['authorization'] === `Bearer ${realKey}`));
  assert.equal(JSON.parse(result.stdout).status, 'completed');
  assertNoSecret(everyOutput(result, dir), realKey);
  assertNoSecret(everyOutput(result, dir), TEST_KEY);
});

test('a key with a space or a stray quote is refused without being shown, and nothing is sent', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const dir = tempDir(t);
  for (const line of [`OPENAI_API_KEY="${TEST_KEY}`, `OPENAI_API_KEY=${TEST_KEY.slice(0, 20)} ${TEST_KEY.slice(20)}`, `OPENAI_API_KEY=${TEST_KEY}\u00a0x`]) {
    writeFileSync(join(dir, '.env'), `${line}\n`);
    const result = await runCli(RUN, { cwd: dir, env: { OPENAI_BASE_URL: emulator.baseUrl } });
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(errorLines(result.stderr), [
      'bgprobe: OPENAI_API_KEY contains a space, a quote mark, a line break or a non-ASCII character, so it cannot be sent; copy the key again (in .env, quote it as OPENAI_API_KEY="sk-...")',
    ]);
    assert.equal(emulator.requests.length, 0);
    assertNoSecret(everyOutput(result, dir), TEST_KEY);
  }
});

test('an unreadable .env is one line and exit 1, with nothing sent', async (t) => {
  const emulator = await emulatorFor(t, FAST);
  const dir = tempDir(t);
  mkdirSync(join(dir, '.env'));
  const result = await runCli(RUN, { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(errorLines(result.stderr), [`bgprobe: the .env file "${join(dir, '.env')}" cannot be read (EISDIR); fix or remove it, or name another with --dotenv`]);
  assert.equal(emulator.requests.length, 0);
});
