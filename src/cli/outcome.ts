import type { ExitCode } from '../exit-codes.js';
import type { TextSink } from '../io.js';
import { oneLine } from '../text.js';

/**
 * How a command ended, for `main` to print: the command decides, `main` writes. Every command
 * returns one (emulate's is its exit once it has stopped serving).
 */
export interface CommandOutcome {
  readonly exitCode: ExitCode;
  /** The one `bgprobe: ...` line on stderr (without the prefix), when the command failed or stopped. */
  readonly errorLine?: string | undefined;
  /** A `bgprobe: ...` line on stderr that is not an error (where `policy --for`'s snippet goes). */
  readonly note?: string | undefined;
  /** With --json: the one object on stdout, instead of `stdout`. */
  readonly json?: unknown;
  /** Plain stdout text (the two summary lines of run and poll, check's text, policy's allowlist). */
  readonly stdout?: string | undefined;
  /**
   * `stdout` carries the command's own colour codes (check on a terminal); its other control
   * characters are already replaced, so main writes it as it is.
   */
  readonly stdoutStyled?: boolean | undefined;
}

/** The one shape of bgprobe's own line on stderr: `bgprobe: ` and the message as one printable line. */
export function writeErrorLine(stderr: TextSink, message: string): void {
  stderr.write(`bgprobe: ${oneLine(message)}\n`);
}
