import type { ExitCode } from '../exit-codes.js';

/**
 * How a command ended, for `main` to print: the command decides, `main` writes. Commands that
 * return a bare exit code have printed their output themselves (the older way; check, cancel,
 * policy and emulate still do).
 */
export interface CommandOutcome {
  readonly exitCode: ExitCode;
  /** The one `bgprobe: ...` line on stderr (without the prefix), when the command failed or stopped. */
  readonly errorLine?: string | undefined;
  /** With --json: the one object on stdout, instead of `stdout`. */
  readonly json?: unknown;
  /** Plain stdout text (the two summary lines of run and poll). */
  readonly stdout?: string | undefined;
}

export function isOutcome(value: ExitCode | CommandOutcome): value is CommandOutcome {
  return typeof value === 'object';
}
