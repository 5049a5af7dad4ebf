import type { Exchange } from '../api/client.js';
import type { TextSink } from '../io.js';
import type { Clock } from '../job/clock.js';
import type { LogEvent } from '../report/report.js';
import { formatEvent, formatExchange, styleFor } from './format.js';
import { liveProgress } from './live-line.js';
import type { ConsoleOptions } from './options.js';

/** What the live status line shows between events. */
export interface PollState {
  readonly status: string;
  readonly polls: number;
  /** Monotonic milliseconds at which the next poll is due; undefined once the status is terminal. */
  readonly nextPollAt: number | undefined;
  /** Stream mode, while it reads events: what it has instead of polls. */
  readonly stream?: StreamCounts | undefined;
}

/** What a followed event stream has done so far: events received, and streams opened again after a break. */
export interface StreamCounts {
  readonly events: number;
  readonly reconnects: number;
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
  /** Text the model is writing, as stream mode receives it (the live line shows its tail). */
  outputDelta?(text: string): void;
  /** An HTTP request ended (shown with --verbose). */
  exchange?(exchange: Exchange): void;
  /** Stops any timer and clears any live line; called before the summary goes to stdout. */
  stop?(): void;
}

export interface ProgressContext {
  /** main's stderr, which masks secrets on the way out. */
  readonly stderr: TextSink;
  readonly options: ConsoleOptions;
}

/**
 * Plain timestamped lines. process.stderr writes synchronously to files and pipes on POSIX,
 * so each line is out before the next step starts, with no flag like Python's -u.
 */
export function lineProgress(stderr: TextSink, options: Pick<ConsoleOptions, 'verbosity'> = { verbosity: 'normal' }): Progress {
  const style = styleFor(false);
  const progress: Progress = {
    event(event) {
      stderr.write(formatEvent(event, style));
    },
  };
  if (options.verbosity === 'verbose') progress.exchange = (exchange) => stderr.write(formatExchange(exchange, style));
  return progress;
}

/** --quiet: nothing but the one error line main() or the command prints. */
const quietProgress: Progress = Object.freeze({ event() {} });

/** The Progress a run gets: silent with --quiet, a live status line on a terminal, plain lines otherwise. */
export function chooseProgress(context: ProgressContext, clock: Pick<Clock, 'monotonic'>, startedAt: number): Progress {
  const { stderr, options } = context;
  if (options.verbosity === 'quiet') return quietProgress;
  if (options.live) return liveProgress(context, clock, startedAt);
  return lineProgress(stderr, options);
}
