import type { ApiAnswer } from '../api/client.js';
import type { ResponseObject } from '../api/response.js';
import type { StreamCounts } from '../console/progress.js';
import { checkedStatus, pollToTerminal } from './poller.js';
import { elapsedSeconds, noteResponse, type Session } from './session.js';

/*
 * Stream mode's retrieves: one look after a stream ended without a terminal event, and polling
 * to the end once streaming is impossible. Counted in the run's polls, as polling mode counts them.
 */

/** One retrieve, its status on the live line (with the stream's counts, while streaming), the timeline and the log. */
export async function retrieveOnce(session: Session, id: string, signal: AbortSignal, stream?: StreamCounts): Promise<ApiAnswer> {
  const answer = await session.client.retrieve(id, signal);
  session.progress.polls += 1;
  const polls = session.progress.polls;
  const status = checkedStatus(answer, id);
  noteResponse(session, answer.response);
  session.journal.streamState({ status, polls, nextPollAt: undefined, stream }, `retrieve ${polls}`, elapsedSeconds(session));
  session.journal.info(`Retrieve ${polls}: status ${status} (HTTP ${answer.status}${answer.requestId ? `, ${answer.requestId}` : ''})`);
  return answer;
}

/** Polling mode from here on, on the fixed schedule of the poller. */
export async function pollToEnd(session: Session, latest: ApiAnswer, intervalSeconds: number, signal: AbortSignal): Promise<ResponseObject> {
  const before = session.progress.polls;
  const result = await pollToTerminal({
    client: session.client,
    responseId: latest.response.id,
    intervalMs: intervalSeconds * 1000,
    scheduleStart: session.clock.monotonic(),
    journal: session.journal,
    clock: session.clock,
    signal,
    onPoll: (response, count) => {
      session.progress.polls = before + count;
      session.progress.lastSeen = response;
      session.journal.pollState({ status: response.status ?? '', polls: session.progress.polls, nextPollAt: undefined }, elapsedSeconds(session));
    },
  });
  return result.response;
}
