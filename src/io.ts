import type { Redactor } from './redact.js';

/** What a command may touch of its process: streams, environment, working folder. Tests pass their own. */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  /** Width of the terminal, when the sink is one. */
  readonly columns?: number | undefined;
}

export interface Io {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * The process's one Redactor. `main` always sets it (and routes stdout and stderr through it);
   * commands register the secrets they learn (a key from .env, a proxy password) into it.
   */
  readonly redactor?: Redactor;
  /** The command line after `bgprobe`, as typed (`main` sets it): the report shows it, masked. */
  readonly argv?: readonly string[];
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
