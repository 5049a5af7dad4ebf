import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulatorFor, hasScript, resumeHintFor, runCli, runCliInPty, runInstalled, tempDir, TEST_KEY } from './helpers.js';

/** A carriage return that is not part of a terminal's \r\n: the mark of a line redrawn in place. */
const REDRAW = /\r(?!\n)/;
const ESCAPE = '\x1b';
const SGR = /\x1b\[\d+m/;

async function fastRun(t: import('node:test').TestContext, extraArgs: string[] = [], env: Record<string, string> = {}) {
  const emulator = await emulatorFor(t, { queuedMs: 150, inProgressMs: 300 });
  const dir = tempDir(t);
  return {
    emulator,
    dir,
    args: ['run', '--poll-interval', '0.1', '--output', 'r.md', ...extraArgs],
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl, ...env },
  };
}

test('through a pipe, progress is plain timestamped lines: no escape codes, no carriage returns', async (t) => {
  const { dir, args, env } = await fastRun(t);
  // A child process, so that stderr is a real pipe.
  const result = await runInstalled(args, { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes(ESCAPE), 'no escape codes');
  assert.ok(!result.stderr.includes('\r'), 'no carriage returns');
  const lines = result.stderr.trimEnd().split('\n');
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) \S/);
  assert.ok(lines.some((line) => / Poll 1: status /.test(line)));
});

test('on a terminal, a live status line shows spinner, status, elapsed, polls and the next poll, in colour', { skip: !hasScript() && 'util-linux script is not installed' }, async (t) => {
  const { dir, args, env } = await fastRun(t);
  const { code, output } = await runCliInPty(args, { cwd: dir, env });
  assert.equal(code, 0, output);
  assert.match(output, REDRAW, 'the status line is redrawn in place');
  const plain = output.replace(/\x1b\[\d+m/g, '');
  assert.match(plain, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (queued|in_progress) {2}elapsed \d+\.\ds {2}polls \d+ {2}(next poll in \d+\.\ds|polling now)/);
  assert.match(plain, /polls [1-9]/, 'the poll count moves');
  assert.match(output, SGR, 'colour on a terminal');
  // Events still arrive as whole lines, and the summary starts on a clean line, the status line gone.
  assert.match(plain, /Z INFO {2}Poll 1: status \w+ \(HTTP 200/);
  const summaryLine = plain.split('\n').find((line) => line.includes('Report written to:'));
  assert.equal(summaryLine?.replace(/\r$/, ''), `Report written to: ${dir}/r.md`);
  assert.match(plain, /\nFinal status: completed\r?\n$/);
});

for (const [label, extraArgs, extraEnv] of [
  ['NO_COLOR=1', [], { NO_COLOR: '1' }],
  ['--no-color', ['--no-color'], {}],
] as const) {
  test(`on a terminal with ${label}, the live line stays but no escape code is written at all`, { skip: !hasScript() && 'util-linux script is not installed' }, async (t) => {
    const { dir, args, env } = await fastRun(t, [...extraArgs], { ...extraEnv });
    const { code, output } = await runCliInPty(args, { cwd: dir, env });
    assert.equal(code, 0, output);
    assert.ok(!output.includes(ESCAPE), `no escape codes with ${label}`);
    assert.match(output, REDRAW);
    assert.match(output, /polls \d+/);
  });
}

test('--quiet on a terminal leaves only the summary on the screen: no events, no live line', { skip: !hasScript() && 'util-linux script is not installed' }, async (t) => {
  const { dir, args, env } = await fastRun(t, ['--quiet']);
  const { code, output } = await runCliInPty(args, { cwd: dir, env });
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, REDRAW);
  assert.equal(output.replace(/\r\n/g, '\n'), `Report written to: ${dir}/r.md\nFinal status: completed\n`);
});

test('--quiet prints nothing on stderr when the run succeeds', async (t) => {
  const { dir, args, env } = await fastRun(t, ['--quiet']);
  const result = await runCli(args, { cwd: dir, env });
  assert.equal(result.code, 0);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, /Final status: completed\n$/);
});

test('--quiet prints only the one error line when the run fails, and it still names the response to resume', async (t) => {
  // The key works for the create, then is refused: the run fails mid-poll with a response id known.
  let checks = 0;
  const emulator = await emulatorFor(t, { queuedMs: 5000, acceptKey: () => checks++ === 0 });
  const dir = tempDir(t);
  const result = await runCli(['run', '--quiet', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 1);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  const id = /resp_\w+/.exec(emulator.requests.find((r) => r.method === 'GET')?.path ?? '')?.[0];
  assert.ok(id, 'a poll was sent');
  assert.match(lines[0]!, /^bgprobe: GET \/v1\/responses\/resp_\w+ failed: the API answered HTTP 401 /);
  assert.ok(lines[0]!.endsWith(`; response ${id} may still be running: ${resumeHintFor(id, emulator.baseUrl)}`), lines[0]);
  assert.ok(!result.stderr.includes(TEST_KEY));
});

test('--verbose shows every request and answer header on stderr, with the key masked', async (t) => {
  const { emulator, dir, args, env } = await fastRun(t, ['--verbose']);
  const result = await runCli(args, { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /HTTP {2}POST \/v1\/responses -> HTTP 200 in \d+ ms/);
  assert.match(result.stderr, /^ {2}> authorization: Bearer sk-\.\.\.CRET$/m);
  assert.match(result.stderr, /^ {2}> content-type: application\/json$/m);
  assert.match(result.stderr, /^ {2}< x-request-id: req_\w+$/m);
  assert.match(result.stderr, /^ {2}< openai-version: \S+$/m);
  assert.ok(!result.stderr.includes(TEST_KEY) && !result.stdout.includes(TEST_KEY));
  const polls = result.stderr.match(/HTTP {2}GET \/v1\/responses\/resp_\w+ -> HTTP 200/g) ?? [];
  assert.equal(polls.length, emulator.requests.filter((r) => r.method === 'GET').length, 'every poll is shown');
});

test('--quiet with --verbose is a usage error: exit 2, one line, nothing sent', async (t) => {
  const { emulator, dir, args, env } = await fastRun(t, ['--quiet', '--verbose']);
  const result = await runCli(args, { cwd: dir, env });
  assert.equal(result.code, 2);
  assert.equal(result.stderr, 'bgprobe: --quiet and --verbose both given; use one of them\n');
  assert.equal(emulator.requests.length, 0);
});
