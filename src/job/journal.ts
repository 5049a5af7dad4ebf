import type { Exchange } from '../api/client.js';
import type { Progress } from '../console/progress.js';
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

  /** An HTTP request ended: a row in Outbound Requests. */
  exchange(exchange: Exchange): void {
    this.#report?.addExchange(exchange);
  }

  #record(level: Level, message: string): void {
    const event = { time: this.#now(), level, message };
    // The report first: whatever the console has shown is then already on disk, even after kill -9.
    this.#report?.addEvent(event);
    this.#progress.event(event);
  }
}
