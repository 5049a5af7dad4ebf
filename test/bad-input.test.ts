import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCommandLine } from '../src/cli/flags.js';
import type { Environment } from '../src/config/environment.js';
import { resolveRunConfig } from '../src/config/run-config.js';
import { isLoopbackHost, requireSafeTransport } from '../src/config/values.js';
import { UsageError } from '../src/errors.js';
import { Redactor } from '../src/redact.js';
import { RunReport } from '../src/report/report.js';
import { emulatorFor, runCli, runMain, tempDir, TEST_KEY } from './helpers.js';
import { errorLines } from './outputs.js';

/** The line for a valued flag given nothing: it names the flag and its form. */
const missing = (usage: string): string => `${usage.split(' ')[0]} needs a value (${usage}); see bgprobe run --help`;

const SECONDS_FORM = 'give a positive number of seconds such as 10 or 0.5';

/** Bad values for a flag that takes seconds, with the reason the message must give. */
function secondsCases(flag: string, missing: string): [string[], string][] {
  return [
    [[flag, '0'], `${flag} "0" must be greater than 0; ${SECONDS_FORM}`],
    [[flag, '-1'], `${flag} "-1" is negative; ${SECONDS_FORM}`],
    [[`${flag}=-0.5`], `${flag} "-0.5" is negative; ${SECONDS_FORM}`],
    [[flag, 'abc'], `${flag} "abc" is not a number of seconds; ${SECONDS_FORM}`],
    [[flag, 'NaN'], `${flag} "NaN" is not a number of seconds; ${SECONDS_FORM}`],
    [[flag, 'Infinity'], `${flag} "Infinity" is not a number of seconds; ${SECONDS_FORM}`],
    [[flag, '1e3'], `${flag} "1e3" is not a number of seconds; ${SECONDS_FORM}`],
    [[flag, '0x10'], `${flag} "0x10" is not a number of seconds; ${SECONDS_FORM}`],
    [[flag, ' '], `${flag} " " is not a number of seconds; ${SECONDS_FORM}`],
    [[flag, '0.0001'], `${flag} "0.0001" is less than a millisecond; ${SECONDS_FORM}`],
    [[flag, '604801'], `${flag} "604801" is more than a week; give at most 604800 seconds`],
    [[flag, '99999999999999999999'], `${flag} "99999999999999999999" is more than a week; give at most 604800 seconds`],
    [[flag], missing],
  ];
}

const USAGE_CASES: [string[], string | RegExp][] = [
  ...secondsCases('--poll-interval', missing('--poll-interval <seconds>')),
  ...secondsCases('--timeout', missing('--timeout <seconds>')),
  [['--bogus'], 'unknown flag --bogus; see bgprobe run --help'],
  [['--pol-interval', '5'], 'unknown flag --pol-interval (did you mean --poll-interval?); see bgprobe run --help'],
  [['--no-colour'], 'unknown flag --no-colour (did you mean --no-color?); see bgprobe run --help'],
  [['check', '--no-color', '--jsn'], 'unknown flag --jsn (did you mean --json?); see bgprobe check --help'],
  [['poll', 'resp_1', '--emulator'], '--emulator is not a flag of bgprobe poll (only of run); see bgprobe poll --help'],
  [['-x'], 'unknown flag -x; see bgprobe run --help'],
  [['--emulator=false'], '--emulator is a switch and takes no value, got "--emulator=false"; write --emulator alone'],
  [['--emulator', '--', '--output', 'x.md'], 'bgprobe run takes nothing after "--" (got "--output x.md"); give flags before it, or remove it'],
  [['poll', 'resp_1', '--'], 'bgprobe poll takes nothing after "--"; give flags before it, or remove it'],
  [['poll', '.'], '"." is not a response id; give the id bgprobe printed, such as resp_68f3a1c2d4e5'],
  [['cancel', '..'], '".." is not a response id; give the id bgprobe printed, such as resp_68f3a1c2d4e5'],
  [['--emulator', '--base-url', 'http://127.0.0.1:9/v1'], '--emulator and --base-url both given; --emulator runs against the built-in emulator on loopback, so drop one of them'],
  [['--emulator', '--proxy', 'http://127.0.0.1:9'], '--emulator and --proxy both given; --emulator runs against the built-in emulator on loopback, so drop one of them'],
  [['frobnicate'], /^unknown command "frobnicate"; commands: run, .+ \(bgprobe --help\)$/],
  [['chek'], /^unknown command "chek" \(did you mean check\?\); commands: run, .+ \(bgprobe --help\)$/],
  [['help', 'chek'], /^unknown command "chek" \(did you mean check\?\); commands: run, .+ \(bgprobe --help\)$/],
  [['policy', '--dotenv', 'nope.env', '--env-file', 'nope.env'], '--dotenv and --env-file both given; they are the same flag, give one (--dotenv works on every Node)'],
  [['policy', '--dotenv', 'nope.env'], '--dotenv "<dir>/nope.env" cannot be read (ENOENT); give a readable file'],
  [['run', 'extra'], 'run takes no arguments, got "extra"; see bgprobe run --help'],
  [['--model', 'a', '--model', 'b'], '--model is given more than once; give it once'],
  [['--base-url', 'not a url'], '--base-url "not a url" is not a URL; give one such as https://api.openai.com/v1'],
  [['--base-url', ''], missing('--base-url <url>')],
  [['--base-url', 'ftp://api.example/v1'], '--base-url "ftp://api.example/v1" must start with https:// (or http:// for a local server)'],
  [['--base-url', 'https://api.example/v1?x=1'], '--base-url "https://api.example/v1?x=1" must not carry a query, fragment or credentials; give one such as https://api.openai.com/v1'],
  [['--base-url', 'https://me:pw@api.example/v1'], '--base-url "https://me:***@api.example/v1" must not carry a query, fragment or credentials; give one such as https://api.openai.com/v1'],
  [
    ['--base-url', 'http://api.example.com/v1'],
    '--base-url "http://api.example.com/v1" is plain http:// to api.example.com, which is not loopback: the API key would cross the network unencrypted; use https://, or add --allow-insecure-http if you mean it',
  ],
  [['emulate', '--port', '70000'], '--port "70000" must be a whole number from 0 to 65535'],
  [['emulate', '--running-seconds', '-2'], `--running-seconds "-2" is negative; ${SECONDS_FORM}`],
  [['emulate', '--final-status', ' '], '--final-status is empty; give some text'],
  [['--max-response-bytes', 'lots'], '--max-response-bytes "lots" must be a whole number from 1024 to 536870912'],
  [['--max-response-bytes', '100'], '--max-response-bytes "100" must be a whole number from 1024 to 536870912'],
  [['--max-response-bytes', '1e9'], '--max-response-bytes "1e9" must be a whole number from 1024 to 536870912'],
  [['--prompt', ''], missing('--prompt <text>')],
  [['--prompt', '  \n '], '--prompt is empty; give some text'],
  [['--instructions', '\t'], '--instructions is empty; give some text'],
  [['--model', ' '], '--model is empty; give some text'],
  [['--output', ''], missing('--output <path>')],
  [['--prompt-file', 'missing.txt'], '--prompt-file "missing.txt" cannot be read (ENOENT); give a readable text file'],
  [['--prompt-file', 'folder'], '--prompt-file "folder" cannot be read (EISDIR); give a readable text file'],
  [['--prompt-file', 'empty.txt'], '--prompt-file "empty.txt" is empty; give a file with the prompt text'],
  [['--prompt', 'hi', '--prompt-file', 'empty.txt'], '--prompt and --prompt-file both given; use one of them'],
  [['--reasoning-effort', 'extreme'], '--reasoning-effort "extreme" is not accepted; use one of: none, minimal, low, medium, high, xhigh, max'],
  [['--reasoning-effort', 'HIGH'], '--reasoning-effort "HIGH" is not accepted; use one of: none, minimal, low, medium, high, xhigh, max'],
  [['--verbosity', 'max'], '--verbosity "max" is not accepted; use one of: low, medium, high'],
  [['--verbosity', ''], missing('--verbosity <level>')],
  [['--poll-interval='], missing('--poll-interval <seconds>')],
  // In process only: Node 20 itself scans a script's arguments for --env-file and, when the file
  // is missing, exits 9 with "node: <path>: not found" before bgprobe starts (see the README).
  [['--env-file', 'nope.env'], '--env-file "<dir>/nope.env" cannot be read (ENOENT); give a readable file'],
];

test('bad command-line input: exit 2, one line naming the flag and the accepted form, nothing sent or written', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, inProgressMs: 50 });
  const dir = tempDir(t);
  mkdirSync(join(dir, 'folder'));
  writeFileSync(join(dir, 'empty.txt'), ' \n');
  const before = readdirSync(dir).sort();
  const env = { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl };
  for (const [args, message] of USAGE_CASES) {
    const result = await runMain(args, env, dir);
    const what = JSON.stringify(args);
    assert.equal(result.code, 2, `${what}: ${result.stderr}`);
    if (typeof message === 'string') assert.equal(result.stderr, `bgprobe: ${message.replace('<dir>', dir)}\n`, what);
    else assert.match(result.stderr.replace(/^bgprobe: /, '').trimEnd(), message, what);
    assert.equal(result.stdout, '', what);
    assert.equal(emulator.requests.length, 0, `${what} sent a request`);
    assert.deepEqual(readdirSync(dir).sort(), before, `${what} wrote a file`);
  }
  // The control: the same setup with good values does reach the emulator.
  const good = await runMain(['--poll-interval', '0.05', '--timeout', '5', '--output', 'r.md', '--prompt', 'hi'], env, dir);
  assert.equal(good.code, 0, good.stderr);
  assert.ok(emulator.requests.length > 0);
});

test('a plain http:// OPENAI_BASE_URL to a remote host is refused unless --allow-insecure-http', async (t) => {
  const dir = tempDir(t);
  const result = await runMain(['--output', 'r.md'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: 'http://10.1.2.3:8080/v1' }, dir);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^bgprobe: OPENAI_BASE_URL "http:\/\/10\.1\.2\.3:8080\/v1" is plain http:\/\/ to 10\.1\.2\.3:8080, which is not loopback/);
  assert.deepEqual(readdirSync(dir), []);

  const flagged = (allow: boolean) => () => requireSafeTransport('--base-url', new URL('http://10.1.2.3:8080/v1'), allow);
  assert.throws(flagged(false), UsageError);
  assert.doesNotThrow(flagged(true));
  assert.doesNotThrow(() => requireSafeTransport('--base-url', new URL('https://api.openai.com/v1'), false));
});

test('loopback hosts are the only ones plain http may reach without the flag', () => {
  const cases: [string, boolean][] = [
    ['http://localhost:8787/v1', true],
    ['http://LOCALHOST./v1', true],
    ['http://emulator.localhost/v1', true],
    ['http://127.0.0.1/v1', true],
    ['http://127.45.6.7/v1', true],
    ['http://[::1]:8080/v1', true],
    ['http://[::ffff:127.0.0.1]/v1', true],
    ['http://128.0.0.1/v1', false],
    ['http://localhost.evil.example/v1', false],
    ['http://127.0.0.1.nip.io/v1', false],
    ['http://[::2]/v1', false],
    ['http://10.0.0.1/v1', false],
  ];
  for (const [url, loopback] of cases) assert.equal(isLoopbackHost(new URL(url).hostname), loopback, url);
});

test('--max-wait takes the same seconds as --poll-interval and refuses the same values', () => {
  const env: Environment = { get: () => undefined, sourceOf: () => undefined };
  assert.equal(resolveRunConfig(readCommandLine('run', ['--max-wait', '90.5']).flags, env).maxWaitSeconds, 90.5);
  for (const [args, message] of secondsCases('--max-wait', missing('--max-wait <seconds>'))) {
    assert.throws(() => resolveRunConfig(readCommandLine('run', args).flags, env), { name: 'UsageError', message }, JSON.stringify(args));
  }
});

test('a report that cannot be written stops the run before the create call (exit 1)', async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a-file'), 'not a folder');
  mkdirSync(join(dir, 'a-folder'));
  const cases: [string, RegExp][] = [
    ['a-file/report.md', /^bgprobe: the report ".+\/a-file\/report\.md" cannot be written \(ENOTDIR: part of the path is a file, not a folder\); choose another --output$/],
    ['a-file/deeper/report.md', /^bgprobe: the report ".+\/a-file\/deeper\/report\.md" cannot be written \(ENOTDIR: part of the path is a file, not a folder\); choose another --output$/],
    ['a-folder', /^bgprobe: the report ".+\/a-folder" cannot be written \(EISDIR: it is a folder\); choose another --output$/],
    // Root may write anywhere, but not there: /proc refuses new entries to everyone.
    ['/proc/bgprobe/report.md', /^bgprobe: the report "\/proc\/bgprobe\/report\.md" cannot be written \(ENOENT: its folder cannot be created there\); choose another --output$/],
    ['/proc/report.md', /^bgprobe: the report "\/proc\/report\.md" cannot be written \((ENOENT|EACCES|EPERM)/],
  ];
  for (const [output, message] of cases) {
    const result = await runCli(['run', '--output', output, '--timeout', '5'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl }, timeoutMs: 10_000 });
    assert.equal(result.code, 1, `${output}: ${result.stderr}`);
    const lines = errorLines(result.stderr);
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, message);
    assert.equal(result.stdout, '');
    assert.equal(emulator.requests.length, 0, `${output}: a request was sent`);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['a-file', 'a-folder'], 'no temporary file is left behind');
  assert.deepEqual(readdirSync(join(dir, 'a-folder')), []);
});

test('the report never writes through a symlink planted at its temporary path', async (t) => {
  const dir = tempDir(t);
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious');
  const report = join(dir, 'report.md');
  symlinkSync(victim, `${report}.${process.pid}.tmp`);
  symlinkSync(victim, `${report}.lock.${process.pid}.new`);
  RunReport.open(report, { title: 'T', configuration: [], prompt: [] }, new Redactor()).close();
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.match(readFileSync(report, 'utf8'), /^# T\n/);
  assert.deepEqual(readdirSync(dir).sort(), ['report.md', 'victim.txt']);
});

test('no key: one line, exit 1, nothing sent, and the report says why', async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  const result = await runCli(['run', '--output', 'r.md'], { cwd: dir, env: { OPENAI_BASE_URL: emulator.baseUrl, OPENAI_API_KEY: '  ' } });
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(errorLines(result.stderr), ['bgprobe: OPENAI_API_KEY is not set; export it, put it in .env, or use --emulator to try bgprobe without a key']);
  assert.equal(emulator.requests.length, 0);
  assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /\[ERROR\] OPENAI_API_KEY is not set/);
});
