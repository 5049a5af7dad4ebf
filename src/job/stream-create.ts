import type { ApiAnswer, StreamAnswer } from '../api/client.js';
import type { StreamEvent } from '../api/sse.js';
import { ProtocolError } from '../errors.js';
import { withStreamHint } from './stream-breaks.js';
import { eventResponse } from './stream-events.js';
import type { OpenedStream, StreamReader } from './stream-reader.js';
import { CreateUncertainError, modelOf, sendCreate, type CreateTracker } from './submit.js';

/** What the streamed create brought back: a plain Response (the server does not stream), or the open stream and its first Response event. */
type Created = { readonly kind: 'json'; readonly answer: ApiAnswer } | { readonly kind: 'stream'; readonly opened: OpenedStream; readonly first: StreamEvent };

/**
 * `run --stream`'s create: `stream: true`, sent by the rule of every create (submit.ts
 * `sendCreate`: Idempotency-Key, "may have been created"), then read up to `response.created`,
 * never cut before the id is known. The stream stays open in `reader` for the follower.
 */
export async function createStreamed(reader: StreamReader, body: Record<string, unknown>, signal: AbortSignal, tracker?: CreateTracker): Promise<ApiAnswer> {
  const { session } = reader;
  const created = await sendCreate(session, 'the background response with stream: true', tracker, (key) => openToCreated(reader, body, key, signal), withStreamHint);
  let answer: ApiAnswer;
  if (created.kind === 'json') answer = reader.notStreaming(created.answer, 'the create');
  else {
    answer = reader.answerOf(created.first, created.opened, 'Created');
    reader.note(created.first);
    if (signal.aborted && reader.isOpen) {
      // Stopped during the create: supervise ends the run once this returns, so the stream closes here.
      await reader.leaveAfterCreated();
      reader.close('closed');
      session.progress.stream = reader.stats(answer.response);
    }
  }
  session.evidence.noteCreate(answer, modelOf(body));
  return answer;
}

/** Sends the create and reads its stream to the first event that carries the Response (and so the id). */
async function openToCreated(reader: StreamReader, body: Record<string, unknown>, key: string, signal: AbortSignal): Promise<Created> {
  reader.opening(false);
  const opened: StreamAnswer = await reader.session.client.openCreateStream({ ...body, stream: true }, key, signal);
  if (opened.kind === 'json') return opened;
  reader.attach(opened);
  try {
    // No signal: the id must be learned first (supervise honours a stop right after).
    for (;;) {
      const event = await reader.next(undefined);
      if (event === undefined) throw new ProtocolError("the create's event stream ended before its first event, response.created, which carries the id");
      if (eventResponse(event) !== undefined) return { kind: 'stream', opened, first: event };
      reader.note(event);
    }
  } catch (error) {
    // The server answered with its stream: the create reached it, so a response may exist.
    reader.close('dropped');
    throw new CreateUncertainError(withStreamHint(error), key);
  }
}
