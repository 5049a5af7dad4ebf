import type { Redactor } from '../redact.js';
import type { TextSink } from '../io.js';
import { oneLine } from '../text.js';
import type { LogEvent } from '../report/report.js';

/** Where live progress goes: one line per event on stderr, the moment it happens. */
export interface Progress {
  event(event: LogEvent): void;
}

/**
 * Plain timestamped lines. process.stderr writes synchronously to files and pipes on POSIX,
 * so each line is out before the next step starts, with no flag like Python's -u.
 */
export function lineProgress(stderr: TextSink, redactor: Redactor): Progress {
  return {
    event(event) {
      stderr.write(redactor.apply(`${event.time.toISOString()} ${event.level.padEnd(5)} ${oneLine(event.message)}\n`));
    },
  };
}
