import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../src/cli/commands.js';
import { helpText } from '../src/cli/help.js';
import { callsOf, emulatorFor, envFor, runInstalled, runMain, singleJsonObject, tempDir, TEST_KEY } from './helpers.js';

test('a switch typed twice means the same as once: --emulator --emulator stays offline, --json --json prints JSON', async (t) => {
  // A real key and base URL are set: reading the doubled switch as off would send a paid create there.
  const elsewhere = await emulatorFor(t);
  const dir = tempDir(t);
  const result = await runMain(['run', '--emulator', '--emulator', '--json', '--json', '--poll-interval', '0.05', '--output', 'r.md'], envFor(elsewhere), dir);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(singleJsonObject(result.stdout)['status'], 'completed');
  assert.equal(elsewhere.requests.length, 0, 'nothing reached the base URL of the environment');
});

test('--emulator ignores an exported OPENAI_BASE_URL and says so in the report, without doubled parentheses', async (t) => {
  const elsewhere = await emulatorFor(t);
  const dir = tempDir(t);
  const result = await runMain(['--emulator', '--poll-interval', '0.05', '--output', 'r.md'], { OPENAI_BASE_URL: elsewhere.baseUrl }, dir);
  assert.equal(result.code, 0, result.stderr);
  const report = (await import('node:fs')).readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /\| Base URL \| http:\/\/127\.0\.0\.1:\d+\/v1 \(--emulator: the built-in emulator; OPENAI_BASE_URL ignored\) \|/);
  assert.doesNotMatch(report, /\(\(|\)\)/);
  assert.equal(elsewhere.requests.length, 0);
});

test('the console flags are accepted by every command', async (t) => {
  const dir = tempDir(t);
  // Each command with the console flags and one bad value: the error must be about the value, not a flag.
  const bad: Record<keyof typeof COMMANDS, [string[], RegExp]> = {
    run: [['--timeout', '0'], /^bgprobe: --timeout "0" must be greater than 0/],
    check: [['--timeout', '0'], /^bgprobe: --timeout "0" must be greater than 0/],
    policy: [['--base-url', 'nope'], /^bgprobe: --base-url "nope" is not a URL/],
    poll: [['resp_1', '--timeout', '0'], /^bgprobe: --timeout "0" must be greater than 0/],
    cancel: [['resp_1', '--timeout', '0'], /^bgprobe: --timeout "0" must be greater than 0/],
    emulate: [['--port', '70000'], /^bgprobe: --port "70000" must be a whole number/],
  };
  for (const [command, [args, message]] of Object.entries(bad)) {
    for (const consoleFlags of [['--no-color'], ['--quiet'], ['--verbose'], ['--no-color', '--no-color', '--quiet']]) {
      const result = await runMain([command, ...consoleFlags, ...args], { OPENAI_API_KEY: TEST_KEY }, dir);
      assert.equal(result.code, 2, `${command} ${consoleFlags.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, `${command} ${consoleFlags.join(' ')}`);
    }
  }
  const policy = await runMain(['policy', '--no-color', '--quiet', '--json', '--json'], {}, dir);
  assert.equal(policy.code, 0, policy.stderr);
  assert.equal(singleJsonObject(policy.stdout)['host'], 'api.openai.com');
});

test('bgprobe help [command] prints the same help as --help', async (t) => {
  const dir = tempDir(t);
  assert.deepEqual(await runMain(['help'], {}, dir), { code: 0, stdout: helpText(), stderr: '' });
  for (const command of Object.keys(COMMANDS) as (keyof typeof COMMANDS)[]) {
    assert.deepEqual(await runMain(['help', command], {}, dir), { code: 0, stdout: helpText(command), stderr: '' });
  }
  const extra = await runMain(['help', 'run', 'poll'], {}, dir);
  assert.equal(extra.code, 2);
});

test('a FIFO or a device where a file is read is refused in one line, without hanging', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'pipe');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) return t.skip('mkfifo is not available');
  const env = { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' };
  const cases: [string[], string][] = [
    [['run', '--prompt-file', 'pipe'], '--prompt-file "pipe" cannot be read (not a regular file: a FIFO); give a readable text file'],
    [['run', '--prompt-file', '/dev/zero'], '--prompt-file "/dev/zero" cannot be read (not a regular file: a character device); give a readable text file'],
    [['check', '--ca-file', fifo], `--ca-file "${fifo}" cannot be read (not a regular file: a FIFO); give a readable PEM file of CA certificates`],
    [['policy', '--dotenv', 'pipe'], `--dotenv "${fifo}" cannot be read (not a regular file: a FIFO); give a readable file`],
    [['run', '--env-file', 'pipe'], `--env-file "${fifo}" cannot be read (not a regular file: a FIFO); give a readable file`],
  ];
  for (const [args, message] of cases) {
    const result = await runMain(args, env, dir);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, `bgprobe: ${message}\n`);
  }
  // ./.env as a FIFO: even policy reads it, and must not block on it.
  const envDir = tempDir(t);
  spawnSync('mkfifo', [join(envDir, '.env')]);
  const policy = await runMain(['policy'], {}, envDir);
  assert.equal(policy.code, 1, policy.stderr);
  assert.match(policy.stderr, /^bgprobe: the \.env file ".+\/\.env" cannot be read \(not a regular file: a FIFO\); fix or remove it, or name another with --dotenv\n$/);
});

test('the installed command reads --dotenv itself on every Node: a missing file is bgprobe\'s own line, exit 2', async (t) => {
  const dir = tempDir(t);
  const missing = await runInstalled(['policy', '--dotenv', 'missing.env'], { cwd: dir });
  assert.equal(missing.code, 2, missing.stderr);
  assert.equal(missing.stderr, `bgprobe: --dotenv "${join(dir, 'missing.env')}" cannot be read (ENOENT); give a readable file\n`);
  writeFileSync(join(dir, 'other.env'), 'OPENAI_BASE_URL=http://127.0.0.1:8787/v1\n');
  const read = await runInstalled(['policy', '--dotenv', 'other.env', '--json'], { cwd: dir });
  assert.equal(read.code, 0, read.stderr);
  assert.equal(singleJsonObject(read.stdout)['port'], 8787);
});

test('a run with every switch doubled behaves as with each once', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 20, inProgressMs: 20 });
  const dir = tempDir(t);
  const result = await runMain(['run', '--quiet', '--quiet', '--cancel-on-interrupt', '--cancel-on-interrupt', '--poll-interval', '0.05', '--output', 'r.md', '--json'], envFor(emulator), dir);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '', '--quiet --quiet is quiet');
  assert.equal(callsOf(emulator).creates, 1);
});
