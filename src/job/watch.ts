import { isPending, type ResponseObject } from '../api/response.js';
import type { ExitCode } from '../exit-codes.js';
import { exitCodeForStatus, terminalEnding, unfinishedEnding } from './outcome.js';
import { checkedStatus, pollToTerminal } from './poller.js';
import { elapsedSeconds, type Session } from './session.js';
import type { ApiAnswer } from '../api/client.js';

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
  const status = final.status ?? '';
  const exitCode = exitCodeForStatus(status);
  session.journal.stopLive();
  session.journal[exitCode === 0 ? 'info' : 'warn'](`Response ${responseId} reached terminal status ${status}`);
  session.report.finish(terminalEnding(final, { elapsedSeconds: elapsedSeconds(session), polls, finishedAt: session.clock.now() }));
  return { status, exitCode, response: final, polls };
}

/**
 * Records an error that ended the run: one event, closing sections that say what is known,
 * and, when a response exists, how to resume or cancel it. Never loses the id.
 */
export function recordFailure(session: Session, error: unknown): void {
  const { responseId, lastSeen, polls } = session.progress;
  const message = error instanceof Error ? error.message : String(error);
  session.journal.stopLive();
  session.journal.error(message);
  if (responseId) {
    session.journal.warn(`Response ${responseId} may still be running: resume with "bgprobe poll ${responseId}", cancel with "bgprobe cancel ${responseId}"`);
  }
  session.report.finish(unfinishedEnding('error: the run stopped', { elapsedSeconds: elapsedSeconds(session), polls, finishedAt: session.clock.now() }, responseId, lastSeen));
}

/**
 * When the poller's next poll is due: the first slot of its fixed schedule after now, as
 * pollToTerminal picks it (a poll that overran skips the slots it missed). For the live line only.
 */
export function nextPollDue(scheduleStart: number, intervalMs: number, now: number): number {
  return scheduleStart + (Math.floor(Math.max(0, now - scheduleStart) / intervalMs) + 1) * intervalMs;
}
