import { isPending, type ResponseObject } from '../api/response.js';
import type { ExitCode } from '../exit-codes.js';
import type { RunStopped } from './stop.js';
import { exitCodeForStatus, failureLine, resumeAfter, resumeEvent, withResumeClause, stoppedState, terminalEnding, unfinishedEnding, type Resume, type ResumeRoute } from './outcome.js';
import { checkedStatus, pollToTerminal } from './poller.js';
import { elapsedSeconds, noteResponse, type Session } from './session.js';
import type { ApiAnswer } from '../api/client.js';
import { withEvidence } from '../report/evidence.js';
import { terminalReason } from './terminal-reason.js';
import { exitCodeOf } from '../errors.js';
import { requestMayHaveActed } from '../api/retry.js';

export interface WatchResult {
  readonly status: string;
  readonly exitCode: ExitCode;
  readonly response: ResponseObject;
  readonly polls: number;
}

/**
 * Follows a response from its first answer to a terminal status, then writes the closing
 * sections of the report. Shared by `run` (after the create) and `poll` (after a first retrieve).
 */
export async function watchToEnd(session: Session, first: ApiAnswer, intervalSeconds: number, signal?: AbortSignal): Promise<WatchResult> {
  const responseId = first.response.id;
  const firstStatus = checkedStatus(first, responseId);
  let final = first.response;
  let polls = 0;
  const intervalMs = intervalSeconds * 1000;
  const scheduleStart = session.clock.monotonic();
  const noteState = (status: string, count: number) => {
    const nextPollAt = isPending(status) ? nextPollDue(scheduleStart, intervalMs, session.clock.monotonic()) : undefined;
    session.journal.pollState({ status, polls: count, nextPollAt }, elapsedSeconds(session));
  };
  noteState(firstStatus, 0);
  if (isPending(firstStatus)) {
    session.journal.info(`Polling every ${intervalSeconds} s until the status leaves queued/in_progress`);
    const result = await pollToTerminal({
      client: session.client,
      responseId,
      intervalMs,
      scheduleStart,
      journal: session.journal,
      clock: session.clock,
      ...(signal ? { signal } : {}),
      onPoll: (response, count) => {
        session.progress.polls = count;
        session.progress.lastSeen = response;
        noteState(response.status ?? '', count);
      },
    });
    final = result.response;
    polls = result.polls;
  }
  return recordTerminal(session, responseId, final, polls);
}

/** How a run whose answers lacked the API's marks (or its background mode) says so, in the report and on stderr. */
export const NOT_THE_API = "warning: not the OpenAI API's background mode:";

/**
 * The one ending of a response that reached a terminal status, polled or streamed: the event
 * with the API's reason, the warning when the answers were not the API's background mode, and
 * the report's closing sections (`extraRows`: what the follower adds to Final Status).
 */
export function recordTerminal(session: Session, responseId: string, final: ResponseObject, polls: number, extraRows: readonly (readonly [string, string])[] = []): WatchResult {
  const status = final.status ?? '';
  const exitCode = exitCodeForStatus(status);
  session.journal.stopLive();
  const reason = exitCode === 0 ? undefined : terminalReason(final);
  session.journal[exitCode === 0 ? 'info' : 'warn'](`Response ${responseId} reached terminal status ${status}${reason ? ` (${reason})` : ''}`);
  const evidence = session.evidence.summary();
  // On stderr as main's note (src/job/supervise.ts), so that even --quiet shows it; here for the report's event log.
  if (evidence.warning) session.journal.reportOnly('WARN', `${NOT_THE_API} ${evidence.warning}`);
  const ending = withEvidence(terminalEnding(final, { elapsedSeconds: elapsedSeconds(session), polls, finishedAt: session.clock.now() }), evidence);
  session.report.finish({ ...ending, status: [...ending.status, ...extraRows], exitCode });
  return { status, exitCode, response: final, polls };
}

/**
 * Records an error that ended the run: one event, closing sections that say what is known,
 * and, when a response exists, how to resume or cancel it (`resume`, decided by supervise with
 * `resumeAfter`). Never loses the id.
 */
export function recordFailure(session: Session, error: unknown, route: ResumeRoute, resume: Resume): void {
  const { responseId, lastSeen, polls } = session.progress;
  const message = failureLine(error, route);
  session.journal.stopLive();
  // The command's own `bgprobe: ...` line says this on stderr, resume hint included.
  session.journal.reportOnly('ERROR', message);
  const event = resumeEvent(resume, 'failed');
  if (event !== undefined) session.journal.reportOnly('WARN', event);
  const facts = { elapsedSeconds: elapsedSeconds(session), polls, finishedAt: session.clock.now() };
  const ending = unfinishedEnding('error: the run stopped', facts, responseId, lastSeen, resume, session.progress.createMayExist);
  session.report.finish({ ...withEvidence(ending, session.evidence.summary()), error: message, exitCode: exitCodeOf(error) });
}

/**
 * When the poller's next poll is due: the first slot of its fixed schedule after now, as
 * pollToTerminal picks it (a poll that overran skips the slots it missed). For the live line only.
 */
export function nextPollDue(scheduleStart: number, intervalMs: number, now: number): number {
  return scheduleStart + (Math.floor(Math.max(0, now - scheduleStart) / intervalMs) + 1) * intervalMs;
}

/**
 * Ends a run that stopped on purpose (--max-wait passed, SIGINT, SIGTERM) before a terminal
 * status: one event saying why, the cancel call first when asked for, closing sections that
 * say whether the response is still running, and the exact commands to resume or cancel it.
 */
export async function recordStop(session: Session, stopped: RunStopped, cancelFirst: boolean, route: ResumeRoute): Promise<{ exitCode: ExitCode; line: string; resume: Resume }> {
  const { journal, progress } = session;
  const id = progress.responseId;
  journal.warn(id ? `${stopped.message}, while following response ${id}` : `${stopped.message}, before any response was created`);
  let what = stopped.why === 'deadline' ? `stopped: ${stopped.message}` : `interrupted (${stopped.why})`;
  // A cancel that failed may still have taken effect; only a later look says what it did.
  let cancelMayHaveTaken = false;
  if (id && cancelFirst) {
    const flag = stopped.why === 'deadline' ? '--cancel-on-timeout' : '--cancel-on-interrupt';
    journal.info(`Cancelling response ${id} (${flag})`);
    try {
      const answer = await session.client.cancel(id);
      const status = checkedStatus(answer, id);
      noteResponse(session, answer.response);
      journal.statusSeen(status, progress.polls, 'cancel', elapsedSeconds(session));
      journal.info(`Cancel answered HTTP ${answer.status}: response ${id} is now ${status}`);
      what += `; ${cancelAnswered(status, flag)}`;
    } catch (error) {
      journal.error(`Cancel failed: ${error instanceof Error ? error.message : String(error)}`);
      what += `; the cancel call failed (${flag})`;
      const refreshed = await refreshStatus(session, id);
      cancelMayHaveTaken = !refreshed && requestMayHaveActed(error);
    }
  }
  // Decided after the cancel: a response it cancelled is no longer anything to resume.
  const resume = resumeAfter({ ...progress, cancelMayHaveTaken }, stopped, route);
  what += stoppedState(resume);
  const line = withResumeClause(stopped.message, resume, 'stopped');
  // The command's `bgprobe: ...` line (the returned `line`) says this on stderr, as for a failure.
  const event = resumeEvent(resume, 'stopped');
  if (event !== undefined) journal.reportOnly('WARN', event);
  const facts = { elapsedSeconds: elapsedSeconds(session), polls: progress.polls, finishedAt: session.clock.now() };
  session.report.finish({ ...withEvidence(unfinishedEnding(what, facts, id, progress.lastSeen, resume, progress.createMayExist), session.evidence.summary()), exitCode: stopped.exitCode });
  return { exitCode: stopped.exitCode, line, resume };
}

/** What the cancel's answer showed: cancelled only when it says so; still running, or ended another way, are not "cancelled". */
function cancelAnswered(status: string, flag: string): string {
  if (status === 'cancelled') return `cancelled on request (${flag})`;
  if (isPending(status)) return `the cancel was sent (${flag}) and answered, but the response still showed ${status}`;
  return `the cancel was sent (${flag}), but the response had ended as ${status}`;
}

/** One more look after a failed cancel (it may have ended meanwhile), so the ending says what is true; false when none came. */
async function refreshStatus(session: Session, id: string): Promise<boolean> {
  try {
    const answer = await session.client.retrieve(id);
    const status = checkedStatus(answer, id);
    noteResponse(session, answer.response);
    session.journal.statusSeen(status, session.progress.polls, 'a look after the failed cancel', elapsedSeconds(session));
    session.journal.info(`Response ${id} is ${status}`);
    return true;
  } catch {
    // The ending then reports the last status seen, which is what is known.
    return false;
  }
}
