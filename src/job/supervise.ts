import type { ApiAnswer } from '../api/client.js';
import type { WatchConfig } from '../config/watch-config.js';
import { errorLine, exitCodeOf } from '../errors.js';
import { writeErrorLine, type CommandOutcome } from '../cli/outcome.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { Session } from './session.js';
import { handleInterrupts, RunStopped, Stopper } from './stop.js';
import { commandsOf, failureLine, resumeAfter, unknownIdFollowUp, withResumeClause, type Resume, type ResumeRoute } from './outcome.js';
import { runSummary } from './summary.js';
import { noteRunTotals } from './run-summary-line.js';
import { UnknownResponseError } from './unknown-response.js';
import type { CreateTracker } from './submit.js';
import { controlOf } from '../egress/control-evidence.js';
import { oneLine } from '../text.js';
import { NOT_THE_API, recordFailure, recordStop, watchToEnd, type WatchResult } from './watch.js';

interface SuperviseOptions {
  readonly watch: WatchConfig;
  /** For the --json summary when the response does not name its model. */
  readonly model?: string | undefined;
  readonly json: boolean;
  /** The options a resume or cancel command carries to reach the same API the same way. */
  readonly route: ResumeRoute;
  /** --timeout: how long a Ctrl-C during the create may have to wait for its answer. */
  readonly timeoutSeconds: number;
  /** Follows the response from its first answer instead of polling (stream mode: src/job/stream-watch.ts). */
  readonly follow?: (first: ApiAnswer, intervalSeconds: number, signal: AbortSignal) => Promise<WatchResult>;
}

/**
 * Runs a reporting command (run, poll) from its first answer to its end, whatever ends it:
 * a terminal status, an error, --max-wait, SIGINT or SIGTERM. `start` sends the first call
 * (the create, or the first retrieve) and records the id; this function owns the deadline,
 * the signal handlers (only while it runs), the closing sections, stdout and the exit code.
 */
export async function supervise(
  session: Session,
  io: Io,
  options: SuperviseOptions,
  start: (signal: AbortSignal, create: CreateTracker) => Promise<ApiAnswer>,
): Promise<CommandOutcome> {
  const { watch, route } = options;
  const { progress } = session;
  const stopper = new Stopper();
  stopper.startDeadline(watch.maxWaitSeconds);
  // The create in flight, if any: its key is all that names a response whose id has not come yet.
  let createKey: string | undefined;
  let createInFlight = false;
  const waitingForCreate = () => createInFlight && progress.responseId === undefined;
  /** An interrupt's own line: on stderr even with --quiet, and in the report. */
  const say = (line: string) => {
    const text = oneLine(line);
    session.journal.reportOnly('WARN', text);
    writeErrorLine(io.stderr, text);
  };
  const removeHandlers = handleInterrupts(stopper, {
    onFirstInterrupt: (signal) => {
      // A create is never cut off mid-flight (the id would be lost): say at once why nothing ends yet.
      if (!waitingForCreate()) return;
      say(
        `${signal}: waiting for the create's answer to learn the response id (at most --timeout ${options.timeoutSeconds} s); ` +
          'a second Ctrl-C exits now, without the id',
      );
    },
    onSecondInterrupt: (signal) => {
      const id = progress.responseId;
      // Exiting at once is no orderly stop: what became of the response is as open as after a failure.
      if (id !== undefined) say(withResumeClause(`${signal} again: exiting at once`, resumeAfter(progress, undefined, route), 'failed'));
      else if (createKey !== undefined && (createInFlight || stopper.signal.aborted)) {
        say(
          `${signal} again: exiting at once, before the create answered: a background response may exist all the same. ` +
            `${unknownIdFollowUp(route)} (the create carried Idempotency-Key ${createKey})`,
        );
      } else say(`${signal} again: exiting at once; no response was created`);
    },
  });
  const tracker: CreateTracker = {
    sending: (key) => {
      createKey = key;
      createInFlight = true;
    },
    settled: () => {
      createInFlight = false;
    },
  };
  try {
    const first = await start(stopper.signal, tracker);
    // A create is never cut off mid-flight, so a stop that came meanwhile is honoured here.
    stopper.throwIfStopped();
    const result = await (options.follow ?? ((answer, seconds, signal) => watchToEnd(session, answer, seconds, signal)))(first, watch.pollIntervalSeconds, stopper.signal);
    noteRunTotals(session, result.response, result.polls);
    // The answer is in hand: a report that could not be written in full ends the run with exit 1, naming the id.
    if (session.report.failure) throw session.report.failure;
    const summary = runSummary(options, session, result.response, result.polls, result.exitCode);
    const warning = session.evidence.summary().warning;
    const note = warning ? `${NOT_THE_API} ${warning}` : undefined;
    return { exitCode: result.exitCode, note, ...(options.json ? { json: summary } : { stdout: summaryLines(session.report.path, result.status) }) };
  } catch (error) {
    // An id the API does not know: nothing started, so main prints the one line, and no report is left.
    if (error instanceof UnknownResponseError) throw error;
    session.journal.stopLive();
    const stopped = error instanceof RunStopped ? error : undefined;
    let exitCode: ExitCode;
    let message: string;
    // Whether the response can be resumed: one decision (outcome.ts resumeAfter) for stderr, the report and --json.
    let resume: Resume;
    // The ending is written to the report, which may itself be what failed (its folder removed,
    // the disk full): the one stderr line must then still name the id and how to resume.
    let reportError: unknown;
    if (stopped) {
      const cancelFirst = stopped.why === 'deadline' ? watch.cancelOnTimeout : watch.cancelOnInterrupt;
      try {
        ({ exitCode, line: message, resume } = await recordStop(session, stopped, cancelFirst, route));
      } catch (caught) {
        reportError = caught;
        exitCode = stopped.exitCode;
        resume = resumeAfter(progress, stopped, route);
        message = withResumeClause(stopped.message, resume, 'stopped');
      }
    } else {
      exitCode = exitCodeOf(error);
      resume = resumeAfter(progress, error, route);
      message = withResumeClause(failureLine(error, route), resume, 'failed');
      try {
        recordFailure(session, error, route, resume);
      } catch (caught) {
        reportError = caught;
      }
    }
    reportError ??= session.report.failure;
    if (reportError !== undefined && errorLine(reportError) !== errorLine(error)) message += `; and ${errorLine(reportError)}`;
    // The id in the resume hint is the server's text too: one line, no escape codes.
    message = oneLine(message);
    const summary = runSummary(options, session, progress.lastSeen, progress.polls, exitCode, { error: message, resume: commandsOf(resume), control: controlOf(error) });
    if (options.json) return { exitCode, errorLine: message, json: summary };
    // stdout keeps its documented shape: the report (when it was written) and the last status seen.
    const reportLine = session.report.complete ? `Report written to: ${oneLine(session.report.path)}\n` : '';
    return { exitCode, errorLine: message, stdout: `${reportLine}Final status: ${oneLine(progress.lastSeen?.status ?? 'none')}\n` };
  } finally {
    session.journal.stopLive();
    session.report.close();
    removeHandlers();
    stopper.dispose();
    await session.client.close();
  }
}

/** stdout's two lines: server text (the status) folded to one line, so it cannot add a third. */
function summaryLines(reportPath: string, status: string): string {
  return `Report written to: ${oneLine(reportPath)}\nFinal status: ${oneLine(status)}\n`;
}
