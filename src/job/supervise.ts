import type { ApiAnswer } from '../api/client.js';
import { isPending } from '../api/response.js';
import type { WatchConfig } from '../config/watch-config.js';
import { writeJson } from '../console/json.js';
import { ApiError, errorLine, exitCodeOf } from '../errors.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { Session } from './session.js';
import { handleInterrupts, RunStopped, Stopper } from './stop.js';
import { resumeCommands } from './outcome.js';
import { runSummary } from './summary.js';
import { oneLine } from '../text.js';
import { recordFailure, recordStop, watchToEnd } from './watch.js';

export interface SuperviseOptions {
  readonly watch: WatchConfig;
  /** For the --json summary when the response does not name its model. */
  readonly model?: string | undefined;
  readonly json: boolean;
}

/**
 * Runs a reporting command (run, poll) from its first answer to its end, whatever ends it:
 * a terminal status, an error, --max-wait, SIGINT or SIGTERM. `start` sends the first call
 * (the create, or the first retrieve) and records the id; this function owns the deadline,
 * the signal handlers (only while it runs), the closing sections, stdout and the exit code.
 */
export async function supervise(session: Session, io: Io, options: SuperviseOptions, start: (signal: AbortSignal) => Promise<ApiAnswer>): Promise<ExitCode> {
  const { watch } = options;
  const stopper = new Stopper();
  stopper.startDeadline(watch.maxWaitSeconds);
  const removeHandlers = handleInterrupts(stopper, {
    onSecondInterrupt: (signal) => {
      const id = session.progress.responseId;
      const resume = id ? `; response ${id} may still be running: bgprobe poll ${id} / bgprobe cancel ${id}` : '';
      io.stderr.write(session.redactor.apply(`bgprobe: ${signal} again: exiting at once${resume}\n`));
    },
  });
  try {
    const first = await start(stopper.signal);
    // A create is never cut off mid-flight, so a stop that came meanwhile is honoured here.
    stopper.throwIfStopped();
    const result = await watchToEnd(session, first, watch.pollIntervalSeconds, stopper.signal);
    // The answer is in hand: a report that could not be written in full ends the run with exit 1, naming the id.
    if (session.report.failure) throw session.report.failure;
    const summary = runSummary(options, session, result.response, result.polls, result.exitCode);
    if (options.json) writeJson(io.stdout, session.redactor, summary);
    else io.stdout.write(`Report written to: ${session.report.path}\nFinal status: ${result.status}\n`);
    return result.exitCode;
  } catch (error) {
    session.journal.stopLive();
    const stopped = error instanceof RunStopped ? error : undefined;
    const { progress } = session;
    let exitCode: ExitCode;
    let message: string;
    // The ending is written to the report, which may itself be what failed (its folder removed,
    // the disk full): the one stderr line must then still name the id and how to resume.
    let reportError: unknown;
    if (stopped) {
      const cancelFirst = stopped.why === 'deadline' ? watch.cancelOnTimeout : watch.cancelOnInterrupt;
      try {
        ({ exitCode, line: message } = await recordStop(session, stopped, cancelFirst));
      } catch (caught) {
        reportError = caught;
        exitCode = stopped.exitCode;
        message = stopped.message + resumeHint(session, stopped);
      }
    } else {
      exitCode = exitCodeOf(error);
      message = errorLine(error) + resumeHint(session, error);
      try {
        recordFailure(session, error);
      } catch (caught) {
        reportError = caught;
      }
    }
    reportError ??= session.report.failure;
    if (reportError !== undefined && errorLine(reportError) !== errorLine(error)) message += `; and ${errorLine(reportError)}`;
    // The id in the resume hint is the server's text too: one line, no escape codes.
    message = oneLine(message);
    io.stderr.write(session.redactor.apply(`bgprobe: ${message}\n`));
    const summary = runSummary(options, session, progress.lastSeen, progress.polls, exitCode, message);
    if (options.json) writeJson(io.stdout, session.redactor, summary);
    else {
      if (session.report.complete) io.stdout.write(`Report written to: ${session.report.path}\n`);
      if (stopped && progress.lastSeen?.status) io.stdout.write(`Final status: ${progress.lastSeen.status}\n`);
    }
    return exitCode;
  } finally {
    session.journal.stopLive();
    session.report.close();
    removeHandlers();
    stopper.dispose();
    await session.client.close();
  }
}

/**
 * Appended to the one error line, so the id survives even --quiet: how to resume or cancel
 * what may still run. A 404 means the API does not know the id: nothing to resume.
 */
function resumeHint(session: Session, error: unknown): string {
  const id = session.progress.responseId;
  if (!id || (error instanceof ApiError && error.status === 404)) return '';
  const status = session.progress.lastSeen?.status;
  if (status && !isPending(status)) return `; response ${id} ended with status ${status}: see it again with "bgprobe poll ${id}"`;
  return `; response ${id} may still be running: ${resumeCommands(id)}`;
}
