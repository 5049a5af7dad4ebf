import type { ApiAnswer, StreamAnswer } from '../api/client.js';
import { isPending, type ResponseObject } from '../api/response.js';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from '../api/retry.js';
import type { StreamEvent } from '../api/sse.js';
import { eventResponse, isTerminalEvent } from './stream-events.js';
import { checkedStatus } from './poller.js';
import { pollToEnd, retrieveOnce } from './stream-fallback.js';
import type { Session } from './session.js';
import type { StreamStats } from './stream-timing.js';
import { streamRows, timingLine } from './stream-report.js';
import { errorText, isApiRefusal, isIdleTimeout, isRefusal, isResumable, refuser } from './stream-breaks.js';
import { createStreamed } from './stream-create.js';
import { StreamReader } from './stream-reader.js';
import type { CreateTracker } from './submit.js';
import { recordTerminal, type WatchResult } from './watch.js';

/** How long before the silent stream's close, by the server's clock, it must have stamped its completion (whole-second stamps). */
const HELD_BACK_MARGIN_SECONDS = 5;

type Read = { kind: 'terminal'; response: ResponseObject } | { kind: 'ended' } | { kind: 'dropped'; error: unknown };

/**
 * Follows a background response through its event stream: `run --stream` opens it with the
 * create (stream-create.ts), `poll --stream` with a streamed retrieve. The cursor is every
 * event's sequence_number; after a drop the stream resumes with `starting_after` (the retry
 * policy's backoff between attempts), a stream that ends without a terminal event is followed
 * by a retrieve, and a refused resume falls back to polling, each said in the event log.
 */
export class StreamWatch {
  readonly #session: Session;
  readonly #reader: StreamReader;

  constructor(session: Session) {
    this.#session = session;
    this.#reader = new StreamReader(session);
  }

  /** `run --stream`: the create with `stream: true`, read up to `response.created` (never cut before the id is known). */
  create(body: Record<string, unknown>, signal: AbortSignal, tracker?: CreateTracker): Promise<ApiAnswer> {
    return createStreamed(this.#reader, body, signal, tracker);
  }

  /** `poll --stream`: a streamed retrieve of a response created with `stream: true`; its first event names the status. */
  async attach(id: string, signal: AbortSignal): Promise<ApiAnswer> {
    const reader = this.#reader;
    reader.id = id;
    reader.opening(false);
    const opened = await this.#session.client.openRetrieveStream(id, undefined, signal).catch((error: unknown) => {
      if (!isRefusal(error)) throw error;
      const reason = isApiRefusal(error) ? ': it was not created with stream: true, or it is too old to stream again' : '';
      this.#pollInstead(`${refuser(error)} refused to stream response ${id} (${errorText(error)})${reason}`);
      return undefined;
    });
    if (opened === undefined) return retrieveOnce(this.#session, id, signal);
    if (opened.kind === 'json') return reader.notStreaming(opened.answer, 'the streamed retrieve');
    reader.attach(opened);
    let first: StreamEvent | undefined;
    try {
      first = await reader.next(signal);
    } catch (error) {
      if (signal.aborted && error === signal.reason) throw error;
      // No first event: learn the status, then (when still running) read a fresh stream.
      this.#session.journal.warn(`The event stream of response ${id} gave no first event (${errorText(error)}); retrieving its status`);
      let answer: ApiAnswer;
      if (isIdleTimeout(error)) answer = await this.#lookAfterSilence(id, signal);
      else {
        reader.close('dropped');
        answer = await retrieveOnce(this.#session, id, signal, reader.counts());
      }
      if (isPending(answer.response.status ?? '')) {
        reader.opening(true);
        const again = await this.#session.client.openRetrieveStream(id, undefined, signal).catch((reopenError: unknown) => {
          if (signal.aborted && reopenError === signal.reason) throw reopenError;
          this.#pollInstead(`the event stream of response ${id} could not be opened again (${errorText(reopenError)})`);
          return undefined;
        });
        if (again?.kind === 'stream') reader.attach(again);
      }
      return answer;
    }
    if (first === undefined || eventResponse(first) === undefined) {
      // A stream that starts without a Response: learn the status by a retrieve, then read on.
      if (first) reader.note(first);
      return retrieveOnce(this.#session, id, signal, reader.counts());
    }
    const answer = reader.answerOf(first, opened, 'Attached to');
    reader.note(first);
    return answer;
  }

  /** From the first answer to a terminal status: the stream, resumed as needed, or polling once streaming is impossible. */
  async follow(first: ApiAnswer, intervalSeconds: number, signal: AbortSignal): Promise<WatchResult> {
    const session = this.#session;
    const reader = this.#reader;
    const id = first.response.id;
    reader.id = id;
    let final = first.response;
    try {
      checkedStatus(first, id);
      if (reader.pollOnly !== undefined || !isPending(final.status ?? '')) {
        if (isPending(final.status ?? '')) final = await pollToEnd(session, first, intervalSeconds, signal);
      } else {
        final = await this.#followStream(first, intervalSeconds, signal);
      }
    } finally {
      reader.close('closed');
      session.progress.stream = reader.stats(final);
      this.#logTiming(session.progress.stream);
    }
    return recordTerminal(session, id, final, session.progress.polls, streamRows(session.progress.stream));
  }

  stats(response: ResponseObject | undefined): StreamStats {
    return this.#reader.stats(response);
  }

  async #followStream(first: ApiAnswer, intervalSeconds: number, signal: AbortSignal): Promise<ResponseObject> {
    const { journal, client, clock } = this.#session;
    const reader = this.#reader;
    const id = first.response.id;
    const policy = { ...DEFAULT_RETRY_POLICY, maxRetries: client.maxRetries };
    let latest = first;
    let failures = 0;
    let read: Read = reader.isOpen ? await this.#readToEnd(signal) : { kind: 'ended' };
    for (;;) {
      if (read.kind === 'terminal') return read.response;
      // A silence past --timeout is bgprobe's own idle limit, not a break: look, then read on at once.
      const silent = read.kind === 'dropped' && isIdleTimeout(read.error);
      if (!silent) failures += 1;
      if (silent) {
        journal.info(`No event for --timeout after event ${reader.cursor ?? '(none)'}; retrieving response ${id} to see whether it is still running`);
        latest = await this.#lookAfterSilence(id, signal);
        if (!isPending(latest.response.status ?? '')) return latest.response;
      } else if (read.kind === 'ended') {
        journal.warn(`The event stream ended after event ${reader.cursor ?? '(none)'} without a terminal event; a stream that ends is not a completion: retrieving response ${id} to learn its status`);
        reader.close('ended');
        latest = await retrieveOnce(this.#session, id, signal, reader.counts());
        if (!isPending(latest.response.status ?? '')) return latest.response;
      } else reader.close('dropped');
      const error = read.kind === 'dropped' && !silent ? read.error : undefined;
      if (failures > policy.maxRetries || (error !== undefined && !isResumable(error))) {
        const why = `the event stream broke ${failures} time${failures === 1 ? '' : 's'} in a row${error === undefined ? '' : ` (last: ${errorText(error)})`}`;
        journal.warn(`${why}; following response ${id} by polling every ${intervalSeconds} s instead`);
        reader.timing.fallBack(why);
        return pollToEnd(this.#session, latest, intervalSeconds, signal);
      }
      const delayMs = silent ? 0 : retryDelayMs(failures, error, policy, clock.now());
      const cursor = reader.cursor ?? '(none)';
      if (error !== undefined) journal.warn(`The event stream dropped after event ${cursor} (${errorText(error)}); resuming with starting_after=${cursor} in ${(delayMs / 1000).toFixed(1)} s`);
      else journal.info(`Response ${id} is still ${latest.response.status}; resuming the stream with starting_after=${cursor} in ${(delayMs / 1000).toFixed(1)} s`);
      await clock.sleep(delayMs, signal);
      const reopened = await this.#resume(id, signal);
      if (reopened === undefined) return pollToEnd(this.#session, latest, intervalSeconds, signal);
      if (reopened.kind === 'json') {
        reader.timing.fallBack('the server answered the resume with a plain Response object: it does not stream');
        journal.warn(`The resume of response ${id} came back as a plain Response object, not an event stream; following it by polling every ${intervalSeconds} s`);
        return pollToEnd(this.#session, reopened.answer, intervalSeconds, signal);
      }
      reader.attach(reopened);
      const seen = reader.timing.count;
      read = await this.#readToEnd(signal);
      // Only breaks in a row, with no event between them, use up the retries.
      if (reader.timing.count > seen) failures = 0;
    }
  }

  /** Closes a stream silent past --timeout and retrieves the status; a completion the stream never delivered is held back. */
  async #lookAfterSilence(id: string, signal: AbortSignal): Promise<ApiAnswer> {
    const { clock } = this.#session;
    this.#reader.close('idle');
    const closedAt = clock.monotonic();
    const answer = await retrieveOnce(this.#session, id, signal, this.#reader.counts());
    // Held back only when the server stamped its completion well before the silent stream was closed,
    // never for one that ended in the moment between the close and the retrieve. completed_at is the
    // server's clock, so the close is placed on it too: its Date, less the time since the close (never
    // bgprobe's own clock, which may run ahead). Without a Date nothing places it: no verdict.
    const completedAt = (answer.response as { completed_at?: unknown }).completed_at;
    const serverDateMs = Date.parse(answer.headers['date'] ?? '');
    if (typeof completedAt !== 'number' || !Number.isFinite(serverDateMs)) return answer;
    const serverClosedAtSeconds = (serverDateMs - (clock.monotonic() - closedAt)) / 1000;
    if (completedAt <= serverClosedAtSeconds - HELD_BACK_MARGIN_SECONDS) this.#reader.timing.heldBack(clock.monotonic());
    return answer;
  }

  /** Reads the open stream to its end: a terminal event, a clean end without one, or a drop. */
  async #readToEnd(signal: AbortSignal): Promise<Read> {
    const reader = this.#reader;
    for (;;) {
      let event: StreamEvent | undefined;
      try {
        event = await reader.next(signal);
      } catch (error) {
        if (signal.aborted && error === signal.reason) throw error;
        return { kind: 'dropped', error };
      }
      if (event === undefined) return { kind: 'ended' };
      reader.note(event);
      const response = eventResponse(event);
      if (response && isTerminalEvent(event)) {
        reader.close('terminal');
        return { kind: 'terminal', response };
      }
    }
  }

  /** Reopens the stream after the cursor; undefined when the API refuses (then bgprobe polls). */
  async #resume(id: string, signal: AbortSignal): Promise<StreamAnswer | undefined> {
    this.#reader.opening(true);
    try {
      return await this.#session.client.openRetrieveStream(id, this.#reader.cursor, signal);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // A proxy's block page says nothing about the resume window: its reasons are the API's only.
      const reason = isApiRefusal(error) ? ': its resume window has passed (about 5 minutes), or the response was not created with stream: true' : '';
      const why = `${refuser(error)} refused to resume the stream (${errorText(error)})${reason}`;
      this.#session.journal.warn(`${why}; following response ${id} by polling instead`);
      this.#reader.timing.fallBack(why);
      return undefined;
    }
  }

  /** Streaming is refused: said in the log, kept for the timing's verdict, and the follow polls from here. */
  #pollInstead(why: string): void {
    this.#session.journal.warn(`${why}; following it by polling instead`);
    this.#reader.timing.fallBack(why);
    this.#reader.pollOnly = 'refused';
  }

  /** The timing line (and the finding, when the path buffers or cuts streams), on stderr and in the report. */
  #logTiming(stats: StreamStats): void {
    if (stats.streams_opened === 0) return;
    this.#session.journal.info(timingLine(stats));
    if (stats.finding) this.#session.journal.warn(stats.finding);
  }
}
