import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';

/** The project root, from build/test/. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The CLI as installed (package.json "bin"): the launcher and the bundled program, as `npm run build` writes them. */
export const BIN = join(ROOT, 'build', 'bgprobe.cjs');

/** The same program as tsc compiled it, one module per file: what the module tracer (test/trace/) can see. */
export const UNBUNDLED_BIN = join(ROOT, 'build', 'src', 'bin.js');

/** A key that looks real, so tests can search every output for it. */
export const TEST_KEY = 'sk-test-0123456789abcdefghijklmnopqrstuvwxyzSECRET';

export async function emulatorFor(t: TestContext, options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator(options);
  t.after(() => emulator.close());
  return emulator;
}

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'bgprobe-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly cwd: string;
  /** The child's whole environment besides PATH: nothing leaks in from the test runner's. */
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
}

/**
 * Runs the CLI's `main` in this process with the test's environment (PATH and `env` only, as a
 * child would have), working folder and captured streams: the default for every test whose
 * subject is not the process itself. Standard input is not the test's to give: a run that reads
 * it (`--prompt-file -`) must use runInstalled or startCli.
 */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return runInProcess(args, options);
}

/** The installed command (build/bgprobe.cjs) in a child process: for tests whose subject is the process. */
export function runInstalled(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return runNodeScript(BIN, args, options);
}

/** `main` in this process, shaped like a child's result (signal always null); see runCli. */
export async function runInProcess(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const dash = args.indexOf('--prompt-file');
  if (dash !== -1 && args[dash + 1] === '-') throw new Error('--prompt-file - reads standard input: run it with runInstalled or startCli');
  const env = { PATH: process.env['PATH'] ?? '', ...options.env };
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bgprobe ${args.join(' ')} still running after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const { code, stdout, stderr } = await Promise.race([runMain(args, env, options.cwd), overdue]);
    return { code, signal: null, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The `## Name` headings of a Markdown report, in order. */
export function sections(markdown: string): string[] {
  return [...markdown.matchAll(/^## (.+)$/gm)].map((m) => m[1] as string);
}

/** Whether util-linux `script` is here to give the CLI a pseudo-terminal. */
export function hasScript(): boolean {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs the built CLI on a pseudo-terminal through util-linux `script`, as a person in a
 * terminal would; stdout and stderr both reach the terminal, so `output` holds both, raw.
 */
export function runCliInPty(args: readonly string[], options: CliOptions): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: options.cwd,
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Exactly one JSON object and nothing else: parses stdout or fails the test. */
export function singleJsonObject(stdout: string): Record<string, unknown> {
  const value: unknown = JSON.parse(stdout);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`stdout is not one JSON object: ${stdout}`);
  return value as Record<string, unknown>;
}

/** A CLI child process still running, for tests that signal or kill it mid-run. */
export interface LiveCli {
  readonly child: import('node:child_process').ChildProcessWithoutNullStreams;
  /** Everything written to stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr matches, so a signal is sent only when the run is where the test wants it. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the process has ended. */
  readonly done: Promise<CliResult>;
}

export function startCli(args: readonly string[], options: CliOptions): LiveCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiters]) {
      if (!w.pattern.test(stderr)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStderr: (pattern, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve();
        const t = setTimeout(() => reject(new Error(`stderr never matched ${pattern}:\n${stderr}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
        void done.then(() => setTimeout(() => reject(new Error(`the CLI ended before stderr matched ${pattern}:\n${stderr}`)), 50));
      }),
    done,
  };
}

/** Creates a background response on the emulator directly, as another tool would, and returns its id. */
export async function createResponseOn(emulator: Pick<Emulator, 'baseUrl'>): Promise<string> {
  const res = await fetch(`${emulator.baseUrl}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5.2', input: 'made elsewhere', background: true }),
  });
  const body = (await res.json()) as { id: string };
  return body.id;
}

/** The environment of a CLI run against an emulator. */
export function envFor(emulator: Emulator): Record<string, string> {
  return { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl };
}

/** The requests the emulator saw, by kind. */
export function callsOf(emulator: Emulator): { creates: number; polls: number; cancels: number } {
  const r = emulator.requests;
  return {
    creates: r.filter((x) => x.method === 'POST' && x.path.endsWith('/responses')).length,
    polls: r.filter((x) => x.method === 'GET').length,
    cancels: r.filter((x) => x.path.endsWith('/cancel')).length,
  };
}

export interface InProcessRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main` in this process with captured streams: much cheaper than spawning a CLI per case. */
export async function runMain(args: readonly string[], env: Record<string, string>, cwd: string): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    cwd,
  });
  return { code, stdout, stderr };
}

/**
 * Runs any Node script (the built CLI, the single-file bundle) in a child process with a clean
 * environment, with extra Node options (e.g. `--import` a preload) before the script.
 */
export function runNodeScript(script: string, args: readonly string[], options: CliOptions, nodeOptions: readonly string[] = []): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeOptions, script, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}


/** `bgprobe emulate ARGS` in a child process, once it listens: the CLI and the base URL it printed. */
export async function startEmulateCommand(t: TestContext, args: readonly string[]): Promise<{ cli: LiveCli; baseUrl: string }> {
  const cli = startCli(['emulate', ...args], { cwd: tempDir(t) });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Press Ctrl-C/);
  const baseUrl = /listening on (\S+)/.exec(cli.stdout())?.[1];
  if (!baseUrl) throw new Error(`emulate printed no URL: ${cli.stdout()}`);
  return { cli, baseUrl };
}

/** The resume hint of a response followed through `baseUrl` (--base-url or OPENAI_BASE_URL): the exact commands bgprobe prints. */
export function resumeHintFor(id: string, baseUrl: string): string {
  return `resume with "bgprobe poll ${id} --base-url ${baseUrl}", cancel with "bgprobe cancel ${id} --base-url ${baseUrl}"`;
}
