import type { ConsoleFlags } from '../cli/flags.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';

/** How much goes to stderr: only errors, the usual events, or the events plus every request's headers. */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

/** How the console looks for one run, resolved once from flags, environment and the terminal. */
export interface ConsoleOptions {
  readonly verbosity: Verbosity;
  /** A status line redrawn in place: only when stderr is a terminal, so CI logs stay plain lines. */
  readonly live: boolean;
  /** ANSI colour: only on a terminal, never with NO_COLOR or --no-color. */
  readonly color: boolean;
}

/** Plain lines, no colour: what a pipe, a file or a test gets. */
export const PLAIN_CONSOLE: ConsoleOptions = Object.freeze({ verbosity: 'normal', live: false, color: false });

/**
 * Reads --quiet, --verbose and --no-color (cac turns `--no-color` into `color: false`).
 * NO_COLOR counts when present and not empty (https://no-color.org); TERM=dumb terminals
 * cannot redraw a line or show colour, so they get plain lines.
 */
export function resolveConsoleOptions(flags: ConsoleFlags, io: Io): ConsoleOptions {
  const quiet = flags.quiet;
  const verbose = flags.verbose;
  if (quiet && verbose) throw new UsageError('--quiet and --verbose both given; use one of them');
  const terminal = io.stderr.isTTY === true && io.env['TERM'] !== 'dumb';
  const noColor = (io.env['NO_COLOR'] ?? '') !== '' || flags.noColor;
  return Object.freeze({
    verbosity: quiet ? 'quiet' : verbose ? 'verbose' : 'normal',
    live: terminal && !quiet,
    color: terminal && !noColor,
  });
}
