import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { buildParser } from '../src/cli/flags.js';
import { COMMANDS } from '../src/cli/commands.js';
import { CODE_CACHE_FILE, LAUNCHER_FILE, PROGRAM_FILE } from '../src/cli/program-files.js';
import { VERSION } from '../src/version.js';
import { baselineWasmFlag } from '../src/api/wasm-tier.js';
import { apiCa, httpsEmulatorFor, authorityOf } from './egress-fixtures.js';
import { BIN, emulatorFor, ROOT, runInstalled, runMain, runNodeScript, tempDir, TEST_KEY } from './helpers.js';
import { startConnectProxy } from './proxies.js';
import { bundle } from '../scripts/bundle.js';

const INSTALLED = join(ROOT, 'build');
const HELP_FORMS: readonly (readonly string[])[] = [
  ['--help'],
  ['-h'],
  ...Object.keys(COMMANDS).flatMap((command) => [[command, '--help'], [command, '-h']]),
  // Not answered by the launcher itself: these go through the parser.
  ['--help', 'run'],
  ['run', '--model', 'x', '--help'],
  ['poll', '--help', 'resp_1'],
];

/** What cac itself prints as help for these arguments, from the same declarations bgprobe parses with. */
function cacHelp(args: readonly string[]): string {
  const cli = buildParser();
  // What cli.version() would set; bgprobe's parser does not print the version itself.
  cli.globalCommand.versionNumber = VERSION;
  cli.parse(['node', 'bgprobe', ...args], { run: false });
  const printed: string[] = [];
  const log = console.log;
  console.log = (text: string) => printed.push(text);
  try {
    (cli.matchedCommand ?? cli.globalCommand).outputHelp();
  } finally {
    console.log = log;
  }
  return `${printed.join('\n')}\n`;
}

const withoutTrailingSpaces = (text: string) => text.replace(/ +$/gm, '');

test('the installed command prints, for every way of asking for help, the help cac renders from the parser declarations', async (t) => {
  const cwd = tempDir(t);
  for (const args of HELP_FORMS) {
    const result = await runInstalled(args, { cwd });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, withoutTrailingSpaces(cacHelp(args)), `bgprobe ${args.join(' ')}`);
  }
  for (const args of [['--version'], ['-v'], ['run', '--version']]) {
    const result = await runInstalled(args, { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `bgprobe/${VERSION} ${process.platform}-${process.arch} node-${process.version}\n`, `bgprobe ${args.join(' ')}`);
  }
});

test('the installed command answers --help and --version without reading its program', async (t) => {
  const dir = tempDir(t);
  copyFileSync(join(INSTALLED, LAUNCHER_FILE), join(dir, LAUNCHER_FILE));
  for (const args of [['--help'], ['run', '--help'], ['check', '-h'], ['--version'], ['help'], ['help', 'poll']]) {
    const result = await runNodeScript(join(dir, LAUNCHER_FILE), args, { cwd: dir });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.ok(result.stdout.startsWith(`bgprobe/${VERSION}`), result.stdout);
  }
  const poll = await runNodeScript(join(dir, LAUNCHER_FILE), ['help', 'poll'], { cwd: dir });
  assert.equal(poll.stdout, withoutTrailingSpaces(cacHelp(['poll', '--help'])));
  // Anything else needs the program, which is not there: the launcher did not read it above.
  const check = await runNodeScript(join(dir, LAUNCHER_FILE), ['check'], { cwd: dir });
  assert.equal(check.code, 1);
  assert.equal(
    check.stderr,
    `bgprobe: cannot read ${join(dir, PROGRAM_FILE)} (ENOENT), which holds the program: the install is incomplete; reinstall bgprobe (from a clone: npm ci)\n`,
  );
});

test('the launcher answers policy and policy --json by itself, exactly as the program does, and leaves the rest to it', async (t) => {
  const dir = tempDir(t);
  copyFileSync(join(INSTALLED, LAUNCHER_FILE), join(dir, LAUNCHER_FILE));
  for (const env of [{}, { OPENAI_BASE_URL: 'https://gateway.example:8443/openai/v1' }, { OPENAI_BASE_URL: '  ' }] as Record<string, string>[]) {
    for (const args of [['policy'], ['policy', '--json']]) {
      const quick = await runNodeScript(join(dir, LAUNCHER_FILE), args, { cwd: dir, env });
      const program = await runMain(args, env, tempDir(t));
      assert.equal(quick.code, 0, `${args.join(' ')}: ${quick.stderr}`);
      assert.equal(quick.stdout, program.stdout, `bgprobe ${args.join(' ')} with ${JSON.stringify(env)}`);
    }
  }
  // What the launcher cannot decide alone goes to the program (absent here, hence the error):
  // a .env file that may set the base URL, other flags, a base URL the program refuses.
  const cases: [readonly string[], Record<string, string>, string | undefined][] = [
    [['policy', '--for', 'squid'], {}, undefined],
    [['policy', '--base-url', 'https://x.example/v1'], {}, undefined],
    [['policy'], { OPENAI_BASE_URL: 'ftp://x' }, undefined],
    [['policy'], {}, 'OPENAI_BASE_URL=https://from-dotenv.example/v1\n'],
  ];
  for (const [args, env, dotenv] of cases) {
    const here = tempDir(t);
    copyFileSync(join(INSTALLED, LAUNCHER_FILE), join(here, LAUNCHER_FILE));
    if (dotenv) writeFileSync(join(here, '.env'), dotenv);
    const result = await runNodeScript(join(here, LAUNCHER_FILE), args, { cwd: here, env });
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}`);
    assert.match(result.stderr, /cannot read .* which holds the program/);
  }
});

test('the build leaves a code cache that V8 accepts under the flags the launcher sets', async (t) => {
  // As the launcher does it, in a process of its own: the flag first, then the program compiled with the cache.
  const dir = tempDir(t);
  const check = join(dir, 'check-cache.mjs');
  const module = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, 'build', 'src', path)).href);
  writeFileSync(
    check,
    [
      "import { readFileSync } from 'node:fs';",
      "import { setFlagsFromString } from 'node:v8';",
      `import { baselineWasmFlag } from ${module('api/wasm-tier.js')};`,
      `import { programScript } from ${module('cli/program-script.js')};`,
      'const flag = baselineWasmFlag();',
      'if (flag) setFlagsFromString(flag);',
      `const file = ${JSON.stringify(join(INSTALLED, PROGRAM_FILE))};`,
      `const script = programScript(file, readFileSync(file, 'utf8'), readFileSync(${JSON.stringify(join(INSTALLED, CODE_CACHE_FILE))}));`,
      "process.stdout.write(script.cachedDataRejected ? 'rejected' : 'accepted');",
    ].join('\n'),
  );
  const result = await runNodeScript(check, [], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'accepted');
  // A cache of the top level alone is about 50 KB; the training run's holds what a run compiled.
  assert.ok(readFileSync(join(INSTALLED, CODE_CACHE_FILE)).length > 200_000, 'the cache comes from the training run');
});

test('the installed command runs without its code cache, and with one that does not match', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 0, inProgressMs: 100 });
  for (const cache of [undefined, Buffer.from('not a V8 code cache'), readFileSync(join(INSTALLED, CODE_CACHE_FILE)).subarray(0, 100)]) {
    const dir = tempDir(t);
    copyFileSync(join(INSTALLED, LAUNCHER_FILE), join(dir, LAUNCHER_FILE));
    copyFileSync(join(INSTALLED, PROGRAM_FILE), join(dir, PROGRAM_FILE));
    if (cache) writeFileSync(join(dir, CODE_CACHE_FILE), cache);
    const result = await runNodeScript(join(dir, LAUNCHER_FILE), ['run', '--poll-interval', '0.05', '--output', 'r.md'], {
      cwd: dir,
      env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Final status: completed\n$/);
  }
});

test('the installed command and the single-file bundle reach an HTTPS API through a CONNECT proxy, with --ca-file', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const proxy = await startConnectProxy(t, { allow: [authorityOf(emulator)] });
  const bare = tempDir(t);
  // From a folder with no node_modules, as it is copied into a sandbox.
  const single = await bundle(join(bare, 'bgprobe.mjs'));
  for (const script of [BIN, single]) {
    const dir = tempDir(t);
    const before = proxy.connects.length;
    const result = await runNodeScript(script, ['run', '--poll-interval', '0.05', '--output', 'r.md', '--ca-file', apiCa.certPath], {
      cwd: dir,
      env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl, HTTPS_PROXY: proxy.url },
    });
    assert.equal(result.code, 0, `${script}: ${result.stderr}`);
    assert.match(result.stdout, /Final status: completed\n$/);
    assert.equal(proxy.connects.length, before + 1, `${script}: one tunnel for the whole run`);
    assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /\| Trusted CAs \| Node's bundled roots \+ --ca-file /);
  }
});

test('a command ends its process when it is done, whatever it could not cancel is still pending', async (t) => {
  // A timer that would keep Node alive for a minute stands in for a DNS lookup that outlived
  // --timeout, which Node cannot abort: the process still ends as soon as the command has.
  const dir = tempDir(t);
  const hold = join(dir, 'hold.cjs');
  writeFileSync(hold, 'setTimeout(() => {}, 60_000);\n');
  // (Not plain `policy`: the launcher answers that one itself, starting nothing.)
  for (const [args, code] of [[['policy', '--for', 'hosts'], 0], [['run', '--poll-interval', '0'], 2]] as const) {
    const result = await runNodeScript(BIN, args, { cwd: dir, timeoutMs: 20_000 }, ['--require', hold]);
    assert.equal(result.code, code, `bgprobe ${args.join(' ')}: ${result.stderr}`);
    if (code === 0) assert.equal(result.stdout, 'api.openai.com:443\n');
    else assert.match(result.stderr, /^bgprobe: --poll-interval "0" must be greater than 0/);
  }
});

test('the installed command loads no network code to print help, the version or the policy', async (t) => {
  // Node's own list of the built-in modules it loaded, written when the process ends. (node:net is
  // not among those looked for: Node loads it itself for a stdout that is a pipe, as here.)
  const dir = tempDir(t);
  const preload = join(dir, 'builtins.cjs');
  writeFileSync(preload, "process.on('exit', () => require('node:fs').writeFileSync(process.env.BUILTINS_OUT, process.moduleLoadList.join('\\n')));\n");
  for (const args of [['--help'], ['--version'], ['policy'], ['policy', '--json']]) {
    const out = join(dir, `builtins-${args.join('-')}.txt`);
    const result = await runNodeScript(BIN, args, { cwd: dir, env: { BUILTINS_OUT: out } }, ['--require', preload]);
    assert.equal(result.code, 0, result.stderr);
    const network = readFileSync(out, 'utf8')
      .split('\n')
      .filter((line) => /^NativeModule (http|https|http2|tls|dns|dns\/promises|_http_\w+|crypto)$/.test(line));
    assert.deepEqual(network, [], `bgprobe ${args.join(' ')}`);
  }
});

/** Node line -> whether bgprobe sets V8's --liftoff-only there (src/api/wasm-tier.ts, measured in docs/performance.md). */
const LIFTOFF_BY_NODE_LINE: Readonly<Record<number, boolean>> = { 20: true, 22: true, 24: false };

test('the WebAssembly tier flag is set on the Node lines where it was measured to pay, and this V8 still knows it', () => {
  const line = Number(process.versions.node.split('.')[0]);
  const flag = baselineWasmFlag();
  const expected = LIFTOFF_BY_NODE_LINE[line];
  if (expected !== undefined) assert.equal(flag !== undefined, expected, `Node ${line}: --liftoff-only ${expected ? 'pays' : 'does not pay'} here (docs/performance.md)`);
  const v8Options = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
  if (flag) assert.match(v8Options, /^\s*--liftoff-only\b/m, `V8 ${process.versions.v8} no longer has ${flag}: the flag stopped applying`);
});

test('where the WebAssembly tier flag is set, it lowers the peak memory of a 10-poll run', { skip: baselineWasmFlag() ? false : `not set on Node ${process.version} (it does not pay there)` }, async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 300, inProgressMs: 650 });
  const dir = tempDir(t);
  // Without the code cache in both runs: V8 accepts a cache only under the flags it was made with.
  copyFileSync(join(INSTALLED, LAUNCHER_FILE), join(dir, LAUNCHER_FILE));
  copyFileSync(join(INSTALLED, PROGRAM_FILE), join(dir, PROGRAM_FILE));
  const usage = join(dir, 'usage.cjs');
  writeFileSync(usage, "process.on('exit', () => require('node:fs').writeFileSync(process.env.USAGE_OUT, String(process.resourceUsage().maxRSS)));\n");
  const noLiftoff = join(dir, 'no-liftoff.cjs');
  writeFileSync(noLiftoff, "const v8 = require('node:v8');\nconst set = v8.setFlagsFromString;\nv8.setFlagsFromString = (flag) => { if (flag !== '--liftoff-only') set(flag); };\n");
  const peakMb = async (preload: readonly string[]): Promise<number> => {
    const out = join(dir, `usage-${preload.length}.txt`);
    const result = await runNodeScript(join(dir, LAUNCHER_FILE), ['run', '--poll-interval', '0.1', '--output', 'r.md'], {
      cwd: dir,
      env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl, USAGE_OUT: out },
    }, ['--require', usage, ...preload]);
    assert.equal(result.code, 0, result.stderr);
    return Number(readFileSync(out, 'utf8')) / 1024;
  };
  const withFlag = await peakMb([]);
  const without = await peakMb(['--require', noLiftoff]);
  // Measured: 36 MB less on Node 20, 17 MB on Node 22; the optimizing compiler's share is what must not come back.
  assert.ok(without - withFlag >= 8, `peak RSS ${withFlag.toFixed(1)} MB with --liftoff-only, ${without.toFixed(1)} MB without: the flag no longer pays on Node ${process.version}`);
});
