import type { Exchange } from '../api/client.js';
import type { Redactor } from '../redact.js';
import type { TextSink } from '../io.js';
import type { LogEvent } from '../report/report.js';
import type { ConsoleOptions } from './options.js';
import { styleFor, type Style } from './style.js';

/** What the live status line shows between events. */
export interface PollState {
  readonly status: string;
  readonly polls: number;
  /** Monotonic milliseconds at which the next poll is due; undefined once the status is terminal. */
  readonly nextPollAt: number | undefined;
}

/**
 * Where live progress goes. `event` is the one required method; the others are optional so
 * that a Progress can ignore what it does not show (plain lines have no status line).
 */
export interface Progress {
  /** One event, printed as one line the moment it happens. */
  event(event: LogEvent): void;
  /** The response's status, poll count or next poll time changed. */
  pollState?(state: PollState): void;
  /** An HTTP request ended (shown with --verbose). */
  exchange?(exchange: Exchange): void;
  /** Stops any timer and clears any live line; called before the summary goes to stdout. */
  stop?(): void;
}

export interface ProgressContext {
  readonly stderr: TextSink;
  readonly redactor: Redactor;
  readonly options: ConsoleOptions;
}

/**
 * Plain timestamped lines. process.stderr writes synchronously to files and pipes on POSIX,
 * so each line is out before the next step starts, with no flag like Python's -u.
 */
export function lineProgress(stderr: TextSink, redactor: Redactor, options: Pick<ConsoleOptions, 'verbosity'> = { verbosity: 'normal' }): Progress {
  const style = styleFor(false);
  const progress: Progress = {
    event(event) {
      stderr.write(redactor.apply(formatEvent(event, style)));
    },
  };
  if (options.verbosity === 'verbose') progress.exchange = (exchange) => stderr.write(redactor.apply(formatExchange(exchange, style)));
  return progress;
}

/** --quiet: nothing but the one error line main() or the command prints. */
export const quietProgress: Progress = Object.freeze({ event() {} });

/** One line per event: ISO time, level, message; WARN and ERROR coloured when colour is on. */
export function formatEvent(event: LogEvent, style: Style): string {
  const level = event.level.padEnd(5);
  const shown = event.level === 'ERROR' ? style.red(level) : event.level === 'WARN' ? style.yellow(level) : style.dim(level);
  return `${style.dim(event.time.toISOString())} ${shown} ${event.message.replace(/\r?\n/g, ' ')}\n`;
}

/**
 * --verbose: the request line and headers, then the answer's status and headers. The
 * client masks Authorization before it gets here; the Redactor masks whatever else echoes a key.
 */
export function formatExchange(exchange: Exchange, style: Style): string {
  const outcome = exchange.status === undefined ? `no answer (${exchange.error ?? 'error'})` : `HTTP ${exchange.status}`;
  const lines = [`${style.dim(exchange.startedAt.toISOString())} ${style.cyan('HTTP ')} ${exchange.method} ${exchange.path} -> ${outcome} in ${Math.round(exchange.durationMs)} ms`];
  for (const [name, value] of Object.entries(exchange.requestHeaders)) lines.push(`  ${style.dim('>')} ${name}: ${value}`);
  for (const [name, value] of Object.entries(exchange.responseHeaders)) lines.push(`  ${style.dim('<')} ${name}: ${value}`);
  return lines.join('\n') + '\n';
}
