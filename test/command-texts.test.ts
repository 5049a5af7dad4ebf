import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { emulatorFor, envFor, hasScript, runCli, runCliInPty, startCli, tempDir } from './helpers.js';

test('policy for a loopback base URL gives no advice about egress presets or TLS interception', async (t) => {
  const dir = tempDir(t);
  const local = await runCli(['policy', '--base-url', 'http://127.0.0.1:8787/v1'], { cwd: dir });
  assert.equal(local.code, 0, local.stderr);
  assert.match(local.stdout, /^127\.0\.0\.1 is this machine \(the emulator, or a relay you run\): nothing leaves it, so no egress allowlist is involved\.$/m);
  assert.doesNotMatch(local.stdout, /Codex|intercepts TLS|--ca-file/);

  const api = await runCli(['policy'], { cwd: dir });
  assert.match(api.stdout, /needs a proxy that intercepts TLS/);
  assert.match(api.stdout, /Codex cloud's "Common dependencies" preset does not include\napi\.openai\.com: add it by hand/);

  const plainRemote = await runCli(['policy', '--base-url', 'http://gateway.example/v1'], { cwd: dir });
  assert.doesNotMatch(plainRemote.stdout, /intercepts TLS/, 'plain http needs no interception to be filtered by method');
  assert.match(plainRemote.stdout, /preset does not include gateway\.example/);
});

test('poll --help names only what poll does: no run --emulator', async (t) => {
  const dir = tempDir(t);
  const poll = await runCli(['poll', '--help'], { cwd: dir });
  assert.equal(poll.code, 0);
  assert.match(poll.stdout, /--poll-interval <seconds> +seconds between polls, decimals allowed \(default: 10\)\n/);
  assert.doesNotMatch(poll.stdout, /emulator/);
  const run = await runCli(['run', '--help'], { cwd: dir });
  assert.match(run.stdout, /\(default: 10; run --emulator: 1\)/);
});

test('--output under /proc says what is wrong, not that its folder cannot be created, and sends nothing', { skip: existsSync('/proc/self') ? false : 'no /proc here' }, async (t) => {
  const emulator = await emulatorFor(t);
  const result = await runCli(['run', '--output', '/proc/x.md'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, 'bgprobe: the report "/proc/x.md" cannot be written (ENOENT: its folder exists but does not accept new files, like /proc or /sys); choose another --output\n');
  assert.equal(emulator.requests.length, 0);
});

test('--prompt-file - reads the prompt from standard input; empty input is refused before anything is sent', async (t) => {
  const emulator = await emulatorFor(t, { pendingPolls: 1 });
  const dir = tempDir(t);
  const cli = startCli(['run', '--prompt-file', '-', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  cli.child.stdin.end('Which machine is free at 9:00?\nSecond line.\n');
  const result = await cli.done;
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(emulator.requests.find((r) => r.method === 'POST')?.body ?? '{}') as { input: { content: { text: string }[] }[] };
  assert.equal(body.input.at(-1)?.content[0]?.text, 'Which machine is free at 9:00?\nSecond line.\n');

  const sent = emulator.requests.length;
  const empty = startCli(['run', '--prompt-file', '-', '--output', 'e.md'], { cwd: dir, env: envFor(emulator) });
  empty.child.stdin.end();
  const refused = await empty.done;
  assert.equal(refused.code, 2);
  assert.equal(refused.stderr, 'bgprobe: --prompt-file -: standard input was empty; pipe the prompt text in\n');
  assert.equal(emulator.requests.length, sent);
});

test("check's text has colour on a terminal, never with NO_COLOR, --no-color or a pipe", { skip: hasScript() ? false : 'util-linux script is not installed' }, async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  const env = { OPENAI_BASE_URL: emulator.baseUrl };
  const coloured = await runCliInPty(['check'], { cwd: dir, env });
  assert.equal(coloured.code, 0, coloured.output);
  assert.match(coloured.output, /^ {2}\x1b\[32mok\x1b\[39m {4}TCP connect/m);
  assert.match(coloured.output, /\x1b\[32mResult: every required endpoint reaches the API/);
  for (const [label, args, extra] of [
    ['NO_COLOR', ['check'], { NO_COLOR: '1' }],
    ['--no-color', ['check', '--no-color'], {}],
    ['TERM=dumb', ['check'], { TERM: 'dumb' }],
  ] as const) {
    const plain = await runCliInPty(args, { cwd: dir, env: { ...env, ...extra } });
    assert.equal(plain.code, 0, `${label}: ${plain.output}`);
    assert.doesNotMatch(plain.output, /\x1b/, label);
  }
  const piped = await runCli(['check'], { cwd: dir, env });
  assert.equal(piped.code, 0, piped.stdout);
  assert.doesNotMatch(piped.stdout, /\x1b/);
});

test("check's columns stay in line when the base URL has a long path", async (t) => {
  const emulator = await emulatorFor(t);
  const longBase = `${emulator.baseUrl.replace(/\/v1$/, '')}/a/rather/long/gateway/prefix/for/the/openai/api/v1`;
  const result = await runCli(['check', '--base-url', longBase], { cwd: tempDir(t) });
  const endpointLines = result.stdout.split('Endpoints\n')[1]?.split('\n\n')[0]?.split('\n').filter((line) => / ms {2}/.test(line)) ?? [];
  assert.equal(endpointLines.length, 3, result.stdout);
  // Where each line's timing column ends: the same column on every line.
  const ends = endpointLines.map((line) => line.indexOf(' ms  '));
  assert.deepEqual(new Set(ends).size, 1, result.stdout);
  const starts = endpointLines.map((line) => line.search(/(POST|GET) \//));
  assert.deepEqual(new Set(starts).size, 1, result.stdout);
});
