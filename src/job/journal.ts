import type { Exchange } from '../api/client.js';
import type { PollState, Progress } from '../console/progress.js';
import { seenByPoll } from '../report/lifecycle.js';
import type { Level, RunReport } from '../report/report.js';

/** The run's event log: every event goes to the console and to the report at the same moment. */
export class Journal {
  readonly #progress: Progress;
  readonly #report: RunReport | undefined;
  readonly #now: () => Date;

  constructor(progress: Progress, report: RunReport | undefined, now: () => Date = () => new Date()) {
    this.#progress = progress;
    this.#report = report;
    this.#now = now;
  }

  info(message: string): void {
    this.#record('INFO', message);
  }

  warn(message: string): void {
    this.#record('WARN', message);
  }

  error(message: string): void {
    this.#record('ERROR', message);
  }

  /**
   * An event for the report only: for the error that ends a run, whose one line on stderr the
   * command prints itself (with the resume hint), so the console does not say it twice.
   */
  reportOnly(level: Level, message: string): void {
    this.#report?.addEvent({ time: this.#now(), level, message });
  }

  /** An HTTP request ended: a row in Outbound Requests, and its headers on stderr with --verbose. */
  exchange(exchange: Exchange): void {
    this.#progress.exchange?.(exchange);
    this.#report?.addExchange(exchange);
  }

  /**
   * A status seen, a poll counted, the next one scheduled: the live line and the report's
   * timeline. It is also the run's checkpoint for the report: the answer is in hand and the id
   * known, so when the report could not be written (its folder removed, the disk full), the
   * run ends here, with the id, instead of following the response with no report to show.
   */
  pollState(state: PollState, elapsedSeconds: number): void {
    this.#progress.pollState?.(state);
    this.statusSeen(state.status, state.polls, seenByPoll(state.polls), elapsedSeconds);
    const failure = this.#report?.failure;
    if (failure) throw failure;
  }

  /** A status an answer showed (a poll's, or a cancel's when a stop cancels the response): the report's timeline. */
  statusSeen(status: string, polls: number, seenBy: string, elapsedSeconds: number): void {
    this.#report?.noteStatus({ time: this.#now(), elapsedSeconds, status, polls, seenBy });
  }

  /** A status seen in a stream event or a retrieve of stream mode: the live line and the report's timeline, labelled by what saw it. */
  streamState(state: PollState, seenBy: string, elapsedSeconds: number): void {
    this.#progress.pollState?.(state);
    this.statusSeen(state.status, state.polls, seenBy, elapsedSeconds);
  }

  /** The live line only: stream mode's counts moved between status changes (the report's timeline keeps status changes). */
  liveState(state: PollState): void {
    this.#progress.pollState?.(state);
  }

  /** Text the model is writing (stream mode): live on a terminal only; the report shows the final answer. */
  outputDelta(text: string): void {
    this.#progress.outputDelta?.(text);
  }

  /** Ends the live line (if any) so the summary on stdout starts on a clean line; events may still follow. */
  stopLive(): void {
    this.#progress.stop?.();
  }

  #record(level: Level, message: string): void {
    const event = { time: this.#now(), level, message };
    // The report first: whatever the console has shown is then already on disk, even after kill -9.
    // It never throws: a report that cannot be written must not take an answer's place.
    this.#report?.addEvent(event);
    this.#progress.event(event);
  }
}
