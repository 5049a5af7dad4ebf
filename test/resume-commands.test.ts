import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resumeCommands } from '../src/job/outcome.js';
import { shellWord } from '../src/text.js';
import { apiCa, httpsEmulatorFor } from './egress-fixtures.js';
import { emulatorFor, runMain, singleJsonObject, tempDir, TEST_KEY } from './helpers.js';
import { startConnectProxy } from './proxies.js';

/** The words a POSIX shell makes of a command line that uses only bare words and single quotes. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/(?:'([^']*)'|\\(.)|([^\s'\\]+))+|\s+/g)) {
    if (/^\s+$/.test(match[0])) continue;
    words.push(match[0].replace(/'([^']*)'|\\(.)/g, (_, quoted: string | undefined, escaped: string | undefined) => quoted ?? escaped ?? ''));
  }
  return words;
}

test('shell words: ids and paths with spaces or quotes come back as typed', () => {
  for (const word of ['resp_1', 'a b', "it's", '$HOME', 'x;rm -rf /', '']) {
    assert.deepEqual(shellWords(`bgprobe poll ${shellWord(word)}`), ['bgprobe', 'poll', word], word);
  }
  assert.equal(resumeCommands('resp_1', { args: ['--dotenv', '/tmp/my keys.env'], maskedProxyPassword: false }).poll, "bgprobe poll resp_1 --dotenv '/tmp/my keys.env'");
});

test('the printed resume and cancel commands carry base URL, proxy, CA file and .env file, and reach the same response', async (t) => {
  const emulator = await httpsEmulatorFor(t, { neverFinish: true });
  const password = 'pa ss/w0rd';
  const proxy = await startConnectProxy(t, { credentials: { user: 'alice', password } });
  const proxyUrl = `http://alice:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`;
  const dir = tempDir(t);
  mkdirSync(join(dir, 'my config'));
  writeFileSync(join(dir, 'my config', 'keys.env'), `OPENAI_API_KEY=${TEST_KEY}\n`);
  const run = await runMain(
    ['run', '--base-url', emulator.baseUrl, '--proxy', proxyUrl, '--ca-file', apiCa.certPath, '--dotenv', 'my config/keys.env', '--poll-interval', '0.2', '--max-wait', '3', '--output', 'r.md', '--json'],
    {},
    dir,
  );
  assert.equal(run.code, 4, run.stderr);
  const summary = singleJsonObject(run.stdout);
  const id = summary['id'] as string;
  const hint = /resume with "(.+?)", cancel with "(.+?)" \(the proxy password is shown as \*\*\*: type it in its place\)$/.exec(run.stderr.trimEnd().split('\n').at(-1) ?? '');
  assert.ok(hint, run.stderr);
  const [, poll = '', cancel = ''] = hint;
  // The same commands on stderr, in --json and in the report.
  assert.equal(summary['resume_command'], poll);
  assert.equal(summary['cancel_command'], cancel);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.ok(report.includes(`| Resume | ${poll} |`), report);
  assert.ok(report.includes(`| Cancel | ${cancel} |`), report);
  // The proxy password is never printed: the user types it in place of ***.
  for (const text of [run.stdout, run.stderr, report]) assert.ok(!text.includes(encodeURIComponent(password)) && !text.includes(password));
  assert.match(poll, /^bgprobe poll resp_\w+ --base-url https:\/\/127\.0\.0\.1:\d+\/v1 --proxy 'http:\/\/alice:\*\*\*@127\.0\.0\.1:\d+' --ca-file \S+ --dotenv '.+\/my config\/keys\.env'$/);

  // Typed as printed, from another folder, with the password put back: the same response, the same way.
  const elsewhere = tempDir(t);
  const typed = (command: string) => shellWords(command.replace('***', encodeURIComponent(password))).slice(1);
  const connectsBefore = proxy.connects.length;
  const pollsBefore = emulator.requests.filter((r) => r.method === 'GET' && r.path.endsWith(id)).length;
  // --max-wait ends the resumed poll of the never-finishing response; 2 s is far more than one poll needs.
  const resumed = await runMain([...typed(poll), '--max-wait', '2', '--poll-interval', '0.5', '--output', 'p.md', '--json'], {}, elsewhere);
  assert.equal(resumed.code, 4, resumed.stderr);
  assert.equal(singleJsonObject(resumed.stdout)['id'], id);
  assert.ok(emulator.requests.filter((r) => r.method === 'GET' && r.path.endsWith(id)).length > pollsBefore, 'the resumed poll reached the emulator');
  assert.ok(proxy.connects.length > connectsBefore, 'through the same proxy');
  const cancelled = await runMain([...typed(cancel), '--json'], {}, elsewhere);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.equal(singleJsonObject(cancelled.stdout)['status'], 'cancelled');
  assert.ok(emulator.requests.some((r) => r.method === 'POST' && r.path.endsWith(`${id}/cancel`)));
});

test('the commands of a run against the default API carry no options at all', () => {
  assert.deepEqual(resumeCommands('resp_abc', { args: [], maskedProxyPassword: false }), { poll: 'bgprobe poll resp_abc', cancel: 'bgprobe cancel resp_abc' });
});

test('the commands also carry --system-ca and --allow-insecure-http when the run used them, ', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true });
  const dir = tempDir(t);
  const env = { OPENAI_API_KEY: TEST_KEY, SSL_CERT_FILE: apiCa.certPath };
  const run = await runMain(['run', '--base-url', emulator.baseUrl, '--system-ca', '--allow-insecure-http', '--poll-interval', '0.2', '--max-wait', '2', '--output', 'r.md', '--json'], env, dir);
  assert.equal(run.code, 4, run.stderr);
  const summary = singleJsonObject(run.stdout);
  assert.equal(summary['resume_command'], `bgprobe poll ${summary['id']} --base-url ${emulator.baseUrl} --system-ca --allow-insecure-http`);
  assert.equal(summary['cancel_command'], `bgprobe cancel ${summary['id']} --base-url ${emulator.baseUrl} --system-ca --allow-insecure-http`);
});

test('run --emulator stopped early prints no command for the emulator that stopped with it, and says why', async (t) => {
  const dir = tempDir(t);
  // The built-in emulator takes about 3 s to finish a response: --max-wait 1 stops the run while it is in progress.
  const result = await runMain(['run', '--emulator', '--max-wait', '1', '--poll-interval', '0.2', '--output', 'r.md', '--json'], {}, dir);
  assert.equal(result.code, 4, result.stderr);
  const line = result.stderr.trim().split('\n').at(-1)!;
  assert.match(line, /^bgprobe: --max-wait 1 s passed .*; response resp_\w+ ended with the built-in emulator \(--emulator\), which stopped with this run: nothing to resume or cancel$/);
  assert.doesNotMatch(result.stderr, /bgprobe poll|bgprobe cancel/);
  const summary = singleJsonObject(result.stdout);
  assert.equal(summary['resume_command'], null);
  assert.equal(summary['cancel_command'], null);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.doesNotMatch(report, /\| Resume \||bgprobe poll resp_/);
});
