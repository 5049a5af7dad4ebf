import type { ApiAnswer } from '../api/client.js';
import { isPending, type ResponseObject } from '../api/response.js';
import { ProtocolError } from '../errors.js';
import type { Clock } from './clock.js';
import type { Journal } from './journal.js';

interface PollOptions {
  /** Retries, if any, happen inside; the signal ends a request or a wait at once. */
  readonly client: { retrieve(responseId: string, signal?: AbortSignal): Promise<ApiAnswer> };
  readonly responseId: string;
  readonly intervalMs: number;
  /** Monotonic time the schedule counts from: poll k is due at start + k × interval. */
  readonly scheduleStart: number;
  readonly journal: Journal;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** Called after every poll with the response seen, so callers can keep the latest. */
  readonly onPoll?: (response: ResponseObject, polls: number) => void;
}

interface PollResult {
  readonly response: ResponseObject;
  readonly polls: number;
}

/**
 * Polls until the status leaves `queued`/`in_progress`. Polls run on a fixed schedule from
 * the start, so request latency never adds drift; a poll that overruns skips the slots it missed.
 */
export async function pollToTerminal(options: PollOptions): Promise<PollResult> {
  const { client, responseId, intervalMs, scheduleStart, journal, clock, signal } = options;
  let polls = 0;
  let slot = 0;
  for (;;) {
    slot = Math.max(slot + 1, Math.ceil((clock.monotonic() - scheduleStart) / intervalMs));
    const wait = scheduleStart + slot * intervalMs - clock.monotonic();
    if (wait > 0) await clock.sleep(wait, signal);
    const answer = await client.retrieve(responseId, signal);
    polls += 1;
    const status = checkedStatus(answer, responseId);
    journal.info(`Poll ${polls}: status ${status} (HTTP ${answer.status}${answer.requestId ? `, ${answer.requestId}` : ''})`);
    options.onPoll?.(answer.response, polls);
    if (!isPending(status)) return { response: answer.response, polls };
  }
}

/** The status of an answer about `expectedId`; a missing status or another id is a protocol error, never a loop. */
export function checkedStatus(answer: ApiAnswer, expectedId: string): string {
  const { response } = answer;
  if (response.id !== expectedId) {
    // The API always answers about the id asked for: this answer came from something else.
    throw new ProtocolError(`an answer about response ${JSON.stringify(response.id)} came when asked about ${expectedId}: not the API's answer (is a proxy, a cache or a mock answering?)`);
  }
  if (typeof response.status !== 'string' || response.status === '') {
    throw new ProtocolError(`the Response object for ${expectedId} has no status; bgprobe cannot tell whether it is finished`);
  }
  return response.status;
}
