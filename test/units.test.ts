import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS, type CommandName } from '../src/cli/commands.js';
import { readCommandLine } from '../src/cli/flags.js';
import { extractOutputText } from '../src/api/response.js';
import { fenceFor } from '../src/report/markdown.js';
import { parseSeconds, requireSafeTransport } from '../src/config/values.js';
import { howToUse } from '../src/commands/emulate.js';
import { UsageError } from '../src/errors.js';
import { VERSION } from '../src/version.js';
import { ROOT } from './helpers.js';

test('fenceFor is always longer than any backtick run in the content', () => {
  for (const [content, fence] of [
    ['plain', '```'],
    ['one ` tick', '```'],
    ['```js\nx\n```', '````'],
    ['a ````` run', '``````'],
  ] as const) {
    assert.equal(fenceFor(content), fence, content);
  }
});

test('extractOutputText prefers output_text, else joins message output_text blocks', () => {
  assert.equal(extractOutputText({ id: 'r', output_text: 'direct' }), 'direct');
  const response = {
    id: 'r',
    output: [
      { type: 'reasoning', summary: [] },
      { type: 'message', content: [{ type: 'output_text', text: 'a' }, { type: 'refusal', refusal: 'no' }, { type: 'output_text', text: 'b' }] },
    ],
  };
  assert.equal(extractOutputText(response), 'a\n\nb');
  assert.equal(extractOutputText({ id: 'r', output: [] }), undefined);
});

test('flag values are kept exactly as typed', () => {
  const { flags } = readCommandLine('run', ['--prompt', '007', '--poll-interval=-5', '--max-retries', '1e3']);
  assert.equal(flags.prompt, '007');
  assert.equal(flags.pollInterval, '-5');
  assert.equal(flags.maxRetries, '1e3');
  assert.throws(() => readCommandLine('run', ['--prompt', 'a', '--prompt', 'b']), UsageError);
});

test('a switch typed twice means the same as once; --no-color is noColor: true', () => {
  const run = readCommandLine('run', ['--emulator', '--emulator', '--json', '--json']).flags;
  assert.deepEqual([run.emulator, run.json, run.stream], [true, true, false]);
  const check = readCommandLine('check', ['--no-color', '--no-color']).flags;
  assert.deepEqual([check.noColor, check.quiet], [true, false]);
  assert.deepEqual(readCommandLine('poll', ['resp_1', '--quiet']).positionals, ['resp_1']);
});

test('every flag a command declares is a key of its flags object: switches false, values undefined when not typed', () => {
  for (const command of Object.keys(COMMANDS) as CommandName[]) {
    const flags: Readonly<Record<string, unknown>> = readCommandLine(command, []).flags;
    const expected = Object.fromEntries(
      COMMANDS[command].flags.map(([usage]) => {
        const name = /^--([\w-]+)/.exec(usage)?.[1] ?? usage;
        return [name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), usage.includes('<') ? undefined : false];
      }),
    );
    assert.deepEqual({ ...flags }, expected, command);
  }
  const poll = readCommandLine('poll', ['resp_1']).flags;
  // A misspelt or foreign flag name does not compile: the object is typed from the declarations.
  // @ts-expect-error --poll-intervall is not a flag
  assert.equal(poll.pollIntervall, undefined);
  // @ts-expect-error --emulator is a flag of run only
  assert.equal(poll.emulator, undefined);
});

test('parseSeconds accepts positive decimals and refuses everything else', () => {
  assert.equal(parseSeconds('--poll-interval', '0.5'), 0.5);
  assert.equal(parseSeconds('--poll-interval', '10'), 10);
  for (const bad of ['0', '-1', 'abc', 'NaN', 'Infinity', '1e3', '0x10', '', '999999999']) {
    assert.throws(() => parseSeconds('--poll-interval', bad), UsageError, bad);
  }
});

test('the version in the code is the package version', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});

test("emulate's usage line suggests a command that bgprobe accepts, wherever the emulator listens", () => {
  const cases: [string, RegExp][] = [
    ['http://127.0.0.1:8787/v1', /^Use it with: OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:8787\/v1 OPENAI_API_KEY=sk-any bgprobe run --poll-interval 1$/],
    ['http://0.0.0.0:8787/v1', /^Use it with: OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:8787\/v1 .+ \(from another machine: this machine's address instead, and --allow-insecure-http\)$/],
    ['http://[::]:8787/v1', /^Use it with: OPENAI_BASE_URL=http:\/\/\[::1\]:8787\/v1 /],
    ['http://192.168.1.5:8787/v1', /^Use it with: OPENAI_BASE_URL=http:\/\/192\.168\.1\.5:8787\/v1 .+ --allow-insecure-http$/],
  ];
  for (const [baseUrl, expected] of cases) {
    const line = howToUse(baseUrl);
    assert.match(line, expected, baseUrl);
    const suggested = new URL(/OPENAI_BASE_URL=(\S+)/.exec(line)?.[1] ?? '');
    const allowed = / --allow-insecure-http$/.test(line);
    assert.doesNotThrow(() => requireSafeTransport('OPENAI_BASE_URL', suggested, allowed), baseUrl);
  }
});

test("emulate's usage line quotes a certificate path the way a shell reads it", () => {
  const line = howToUse('https://127.0.0.1:8443/v1', "/tmp/it's dir/c.pem");
  assert.ok(line.includes(`--ca-file '/tmp/it'\\''s dir/c.pem'`), line);
});
