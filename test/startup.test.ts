import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emulatorFor, runNodeScript, TEST_KEY, tempDir, type CliResult, UNBUNDLED_BIN } from './helpers.js';

/** The preload that records every module the CLI resolves (test/trace/). */
const TRACE = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'trace', 'register.js')).href;
const SRC_ROOT = `${pathToFileURL(dirname(UNBUNDLED_BIN)).href}/`;

interface Loaded {
  readonly result: CliResult;
  /** npm packages, by name. */
  readonly packages: readonly string[];
  /** bgprobe's own modules, relative to src/ (e.g. `commands/run.js`). */
  readonly modules: readonly string[];
  /** Everything resolved, as URLs. */
  readonly urls: readonly string[];
}

let traces = 0;

/** Runs the built CLI with the module tracer and says which packages and modules it loaded. */
async function loadedBy(t: TestContext, args: readonly string[], env: Record<string, string> = {}, cwd = tempDir(t)): Promise<Loaded> {
  const file = join(cwd, `modules-${++traces}.txt`);
  const result = await runNodeScript(UNBUNDLED_BIN, args, { cwd, env: { ...env, BGPROBE_MODULE_TRACE: file } }, ['--import', TRACE]);
  assert.ok(existsSync(file), `the tracer recorded nothing: ${result.stderr}`);
  const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const packages = new Set(urls.map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]).filter((name): name is string => name !== undefined));
  const modules = new Set(urls.filter((url) => url.startsWith(SRC_ROOT)).map((url) => url.slice(SRC_ROOT.length)));
  return { result, packages: [...packages].sort(), modules: [...modules].sort(), urls };
}

/** Modules that only a command sending requests or writing a report needs. */
const NETWORK_OR_REPORT = /^(api\/client|api\/dispatcher|api\/transport-errors|job\/|report\/|emulator\/)/;

const COMMANDS = ['run', 'poll', 'cancel', 'check', 'policy', 'emulate'];

for (const args of [['--help'], ['--version'], ...COMMANDS.map((command) => [command, '--help'])]) {
  test(`bgprobe ${args.join(' ')} loads cac and the CLI table, nothing else`, async (t) => {
    const { result, packages, modules } = await loadedBy(t, args);
    assert.equal(result.code, 0, result.stderr);
    const command = args.length === 2 ? args[0] : undefined;
    if (args[0] === '--version') assert.match(result.stdout, /^bgprobe\/\d+\.\d+\.\d+ /);
    else if (command) assert.match(result.stdout, new RegExp(`\\$ bgprobe ${command}\\b`), 'the help of that command');
    else for (const name of COMMANDS) assert.match(result.stdout, new RegExp(`^  ${name}\\b`, 'm'), `--help lists ${name}`);
    assert.deepEqual(packages, ['cac']);
    const commandModules = modules.filter((m) => /^(commands|api|job|report|emulator|config)\//.test(m));
    assert.deepEqual(commandModules, [], 'no command code is loaded to print help or the version');
  });
}

test('bgprobe policy loads neither undici nor dotenv', async (t) => {
  for (const args of [['policy'], ['policy', '--json']]) {
    const { result, packages, modules } = await loadedBy(t, args);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(packages, ['cac'], `bgprobe ${args.join(' ')}`);
    assert.deepEqual(modules.filter((m) => NETWORK_OR_REPORT.test(m)), [], `bgprobe ${args.join(' ')}`);
  }
});

test('a usage error is refused before undici is loaded', async (t) => {
  const { result, packages } = await loadedBy(t, ['run', '--poll-interval', '0'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--poll-interval "0" must be greater than 0/);
  assert.ok(!packages.includes('undici'), `loaded: ${packages.join(', ')}`);
});

test('the tracer sees lazy loads: a run with a .env file loads undici (its Agent alone) and dotenv', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 0, inProgressMs: 50 });
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), `OPENAI_API_KEY=${TEST_KEY}\n`);
  const { result, packages, modules, urls } = await loadedBy(t, ['run', '--poll-interval', '0.05', '--output', 'r.md'], { OPENAI_BASE_URL: emulator.baseUrl }, dir);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(packages, ['cac', 'dotenv', 'undici']);
  assert.ok(modules.includes('commands/run.js') && modules.includes('api/dispatcher.js'));
  // The package index would load fetch, WebSocket and the mocks: most of run's start-up time.
  const undici = urls.filter((url) => url.includes('/node_modules/undici/')).map((url) => url.replace(/^.*\/node_modules\/undici\//, ''));
  assert.deepEqual(undici.sort(), ['lib/api/api-connect.js', 'lib/api/api-request.js', 'lib/dispatcher/agent.js', 'lib/dispatcher/dispatcher.js']);
});
