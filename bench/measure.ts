import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchEmulatorOptions, EmulatorRequest } from './emulator-process.js';
import type { WireStats } from './relay.js';
import type { Usage } from './rusage.js';

const HERE = import.meta.dirname;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Timed {
  readonly wallMs: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** CPU time and peak RSS of the child, when it ran with the rusage preload. */
  readonly usage: Usage | undefined;
}

export interface SpawnOptions {
  readonly cwd: string;
  readonly env?: Record<string, string>;
  /** Load bench/rusage.js into the child and read its CPU time and peak RSS. */
  readonly usageFile?: string;
  /** Called the moment the child is spawned, for clocks that start then. */
  readonly onSpawn?: (startedAt: number) => void;
  /** Another Node binary (bench/nodes.ts); this process's own by default. */
  readonly node?: string;
}

/** Runs `node ...args` and measures wall time from spawn to exit. */
export function timedNode(args: readonly string[], options: SpawnOptions): Promise<Timed> {
  const { usageFile } = options;
  if (usageFile) rmSync(usageFile, { force: true });
  const nodeArgs = usageFile ? ['--import', pathToFileURL(join(HERE, 'rusage.js')).href, ...args] : [...args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(options.node ?? process.execPath, nodeArgs, {
      cwd: options.cwd,
      env: { PATH: process.env['PATH'] ?? '', ...options.env, ...(usageFile ? { BGPROBE_BENCH_RUSAGE: usageFile } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(started);
    let stdout = '';
    let stderr = '';
    let exited: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', () => (exited = performance.now()));
    child.on('error', reject);
    child.on('close', (code) => {
      const usage = usageFile && existsSync(usageFile) ? (JSON.parse(readFileSync(usageFile, 'utf8')) as Usage) : undefined;
      resolve({ wallMs: (exited ?? performance.now()) - started, code, stdout, stderr, usage });
    });
  });
}

/** The emulator behind a counting relay, in a process of its own. */
export class EmulatorProcess {
  readonly baseUrl: string;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, baseUrl: string) {
    this.#child = child;
    this.baseUrl = baseUrl;
  }

  static async start(options: BenchEmulatorOptions): Promise<EmulatorProcess> {
    const child = fork(join(HERE, 'emulator-process.js'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { baseUrl: string }) => resolve(m.baseUrl));
      child.once('exit', (code) => reject(new Error(`the emulator process exited (${code})`)));
    });
    return new EmulatorProcess(child, baseUrl);
  }

  async stats(): Promise<WireStats> {
    return ((await this.#ask('stats')) as { stats: WireStats }).stats;
  }

  async reset(): Promise<void> {
    await this.#ask('reset');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.send('close' satisfies EmulatorRequest);
    });
  }

  #ask(message: EmulatorRequest): Promise<unknown> {
    return new Promise((resolve) => {
      this.#child.once('message', resolve);
      this.#child.send(message);
    });
  }
}
