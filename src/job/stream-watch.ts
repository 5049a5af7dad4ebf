import { randomUUID } from 'node:crypto';
import type { ApiAnswer, StreamAnswer } from '../api/client.js';
import { isPending, type ResponseObject } from '../api/response.js';
import { createMayHaveStarted, DEFAULT_RETRY_POLICY, retryDelayMs } from '../api/retry.js';
import type { StreamEvent } from '../api/sse.js';
import { ProtocolError } from '../errors.js';
import { oneLine } from '../text.js';
import { describeEvent, eventResponse, isTerminalEvent, textDelta } from './stream-events.js';
import { checkedStatus } from './poller.js';
import { pollToEnd, retrieveOnce } from './stream-fallback.js';
import { elapsedSeconds, noteResponse, type Session } from './session.js';
import { StreamTiming, type StreamStats } from './stream-timing.js';
import { streamRows, timingLine } from './stream-report.js';
import { errorText, isIdleTimeout, isRefusal, isResumable, withStreamHint } from './stream-breaks.js';
import { StreamConnection } from './stream-connection.js';
import { CreateUncertainError } from './submit.js';
import type { CreateTracker } from './supervise.js';
import { recordTerminal, type WatchResult } from './watch.js';

/**
 * How long bgprobe keeps reading, when asked to stop, for the event after `response.created`:
 * a client that leaves right at `response.created` has left responses queued for ten minutes
 * and more (community.openai.com thread 1382584; shared/reference/field-2026.md).
 */
export const AFTER_CREATED_WAIT_MS = 10_000;

/** How long before the silent stream's close the server must have stamped its completion (clock skew, whole seconds). */
const HELD_BACK_MARGIN_SECONDS = 5;

type Opened = Extract<StreamAnswer, { kind: 'stream' }>;
type Read = { kind: 'terminal'; response: ResponseObject } | { kind: 'ended' } | { kind: 'dropped'; error: unknown };

/**
 * Follows a background response through its event stream: `run --stream` opens it with the
 * create, `poll --stream` with a streamed retrieve. The cursor is every event's
 * sequence_number; after a drop the stream resumes with `starting_after` (the retry policy's
 * backoff between attempts), a stream that ends without a terminal event is followed by a
 * retrieve, and a refused resume falls back to polling, each said in the event log.
 */
export class StreamWatch {
  readonly #session: Session;
  readonly #timing = new StreamTiming();
  #id: string | undefined;
  #cursor: number | undefined;
  #lastType: string | undefined;
  #connection: StreamConnection | undefined;
  /** Set when the server does not stream at all: the follow is then polling from the start. */
  #pollOnly: string | undefined;

  constructor(session: Session) {
    this.#session = session;
  }

  /** `run --stream`: the create with `stream: true`, read up to `response.created` (never cut before the id is known). */
  async create(body: Record<string, unknown>, signal: AbortSignal, tracker?: CreateTracker): Promise<ApiAnswer> {
    tracker?.sending(this.#key);
    try {
      const answer = await this.#create(body, signal);
      this.#session.evidence.noteCreate(answer, typeof body['model'] === 'string' ? body['model'] : undefined);
      return answer;
    } catch (error) {
      // The report's Final Status must say the same as its event log: a response may exist.
      if (error instanceof CreateUncertainError) this.#session.progress.createMayExist = this.#key;
      throw error;
    } finally {
      tracker?.settled();
    }
  }

  /** The create's Idempotency-Key, known before it is sent: what names the response until its id comes. */
  readonly #key = `bgprobe-${randomUUID()}`;

  async #create(body: Record<string, unknown>, signal: AbortSignal): Promise<ApiAnswer> {
    const { journal, client } = this.#session;
    const key = this.#key;
    journal.info(`Submitting the background response with stream: true (POST create, Idempotency-Key ${key})`);
    let opened: StreamAnswer;
    this.#timing.open(this.#session.clock.monotonic());
    try {
      opened = await client.openCreateStream({ ...body, stream: true }, key, signal);
    } catch (error) {
      if (createMayHaveStarted(error)) throw new CreateUncertainError(withStreamHint(error), key);
      throw error;
    }
    if (opened.kind === 'json') return this.#notStreaming(opened.answer, 'the create');
    this.#attach(opened);
    let first: StreamEvent | undefined;
    try {
      // No signal: the id must be learned first (supervise honours a stop right after).
      while (first === undefined) {
        const event = await this.#next(undefined);
        if (event === undefined) throw new ProtocolError('the create\'s event stream ended before its first event, response.created, which carries the id');
        if (eventResponse(event) !== undefined) first = event;
        else this.#note(event);
      }
    } catch (error) {
      this.#close('dropped');
      throw new CreateUncertainError(withStreamHint(error), key);
    }
    const answer = this.#answerOf(first, opened, 'Created');
    this.#note(first);
    if (signal.aborted && this.#connection) {
      // Stopped during the create: supervise ends the run once this returns, so the stream closes here.
      await this.#leaveAfterCreated(this.#connection);
      this.#close('closed');
      this.#session.progress.stream = this.stats(answer.response);
    }
    return answer;
  }

  /** `poll --stream`: a streamed retrieve of a response created with `stream: true`; its first event names the status. */
  async attach(id: string, signal: AbortSignal): Promise<ApiAnswer> {
    this.#id = id;
    this.#timing.open(this.#session.clock.monotonic());
    const opened = await this.#session.client.openRetrieveStream(id, undefined, signal).catch((error: unknown) => {
      if (!isRefusal(error)) throw error;
      const why = `the API refused to stream response ${id} (${errorText(error)}): it was not created with stream: true, or it is too old to stream again`;
      this.#session.journal.warn(`${why}; following it by polling instead`);
      this.#fallBack(why);
      return undefined;
    });
    if (opened === undefined) {
      this.#pollOnly = 'refused';
      return retrieveOnce(this.#session, id, signal);
    }
    if (opened.kind === 'json') return this.#notStreaming(opened.answer, 'the streamed retrieve');
    this.#attach(opened);
    let first: StreamEvent | undefined;
    try {
      first = await this.#next(signal);
    } catch (error) {
      if (signal.aborted && error === signal.reason) throw error;
      // No first event: learn the status, then (when still running) read a fresh stream.
      this.#session.journal.warn(`The event stream of response ${id} gave no first event (${errorText(error)}); retrieving its status`);
      let answer: ApiAnswer;
      if (isIdleTimeout(error)) answer = await this.#lookAfterSilence(id, signal);
      else {
        this.#close('dropped');
        answer = await retrieveOnce(this.#session, id, signal);
      }
      if (isPending(answer.response.status ?? '')) {
        this.#timing.open(this.#session.clock.monotonic(), this.#cursor ?? -1);
        const again = await this.#session.client.openRetrieveStream(id, undefined, signal).catch((reopenError: unknown) => {
          if (signal.aborted && reopenError === signal.reason) throw reopenError;
          const why = `the event stream of response ${id} could not be opened again (${errorText(reopenError)})`;
          this.#session.journal.warn(`${why}; following it by polling instead`);
          this.#fallBack(why);
          this.#pollOnly = 'refused';
          return undefined;
        });
        if (again?.kind === 'stream') this.#attach(again);
      }
      return answer;
    }
    if (first === undefined || eventResponse(first) === undefined) {
      // A stream that starts without a Response: learn the status by a retrieve, then read on.
      if (first) this.#note(first);
      return retrieveOnce(this.#session, id, signal);
    }
    const answer = this.#answerOf(first, opened, 'Attached to');
    this.#note(first);
    return answer;
  }

  /** From the first answer to a terminal status: the stream, resumed as needed, or polling once streaming is impossible. */
  async follow(first: ApiAnswer, intervalSeconds: number, signal: AbortSignal): Promise<WatchResult> {
    const session = this.#session;
    const id = first.response.id;
    this.#id = id;
    let final = first.response;
    try {
      checkedStatus(first, id);
      if (this.#pollOnly !== undefined || !isPending(final.status ?? '')) {
        if (isPending(final.status ?? '')) final = await pollToEnd(this.#session, first, intervalSeconds, signal);
      } else {
        final = await this.#followStream(first, intervalSeconds, signal);
      }
    } finally {
      this.#close('closed');
      session.progress.stream = this.stats(final);
      this.#logTiming(session.progress.stream);
    }
    return recordTerminal(session, id, final, session.progress.polls, streamRows(session.progress.stream));
  }

  stats(response: ResponseObject | undefined): StreamStats {
    return this.#timing.stats(response);
  }

  async #followStream(first: ApiAnswer, intervalSeconds: number, signal: AbortSignal): Promise<ResponseObject> {
    const { journal, client, clock } = this.#session;
    const id = first.response.id;
    const policy = { ...DEFAULT_RETRY_POLICY, maxRetries: client.maxRetries };
    let latest = first;
    let failures = 0;
    let read: Read = this.#connection ? await this.#readToEnd(signal) : { kind: 'ended' };
    for (;;) {
      if (read.kind === 'terminal') return read.response;
      // A silence past --timeout is bgprobe's own idle limit, not a break: look, then read on at once.
      const silent = read.kind === 'dropped' && isIdleTimeout(read.error);
      if (!silent) failures += 1;
      if (silent) {
        journal.info(`No event for --timeout after event ${this.#cursor ?? '(none)'}; retrieving response ${id} to see whether it is still running`);
        latest = await this.#lookAfterSilence(id, signal);
        if (!isPending(latest.response.status ?? '')) return latest.response;
      } else if (read.kind === 'ended') {
        journal.warn(`The event stream ended after event ${this.#cursor ?? '(none)'} without a terminal event; a stream that ends is not a completion: retrieving response ${id} to learn its status`);
        this.#close('ended');
        latest = await retrieveOnce(this.#session, id, signal);
        if (!isPending(latest.response.status ?? '')) return latest.response;
      } else this.#close('dropped');
      const error = read.kind === 'dropped' && !silent ? read.error : undefined;
      if (failures > policy.maxRetries || (error !== undefined && !isResumable(error))) {
        const why = `the event stream broke ${failures} time${failures === 1 ? '' : 's'} in a row${error === undefined ? '' : ` (last: ${errorText(error)})`}`;
        journal.warn(`${why}; following response ${id} by polling every ${intervalSeconds} s instead`);
        this.#fallBack(why);
        return pollToEnd(this.#session, latest, intervalSeconds, signal);
      }
      const delayMs = silent ? 0 : retryDelayMs(failures, error, policy, clock.now());
      const cursor = this.#cursor ?? '(none)';
      if (error !== undefined) journal.warn(`The event stream dropped after event ${cursor} (${errorText(error)}); resuming with starting_after=${cursor} in ${(delayMs / 1000).toFixed(1)} s`);
      else journal.info(`Response ${id} is still ${latest.response.status}; resuming the stream with starting_after=${cursor} in ${(delayMs / 1000).toFixed(1)} s`);
      await clock.sleep(delayMs, signal);
      const reopened = await this.#resume(id, signal);
      if (reopened === undefined) return pollToEnd(this.#session, latest, intervalSeconds, signal);
      if (reopened.kind === 'json') {
        this.#fallBack('the server answered the resume with a plain Response object: it does not stream');
        journal.warn(`The resume of response ${id} came back as a plain Response object, not an event stream; following it by polling every ${intervalSeconds} s`);
        return pollToEnd(this.#session, reopened.answer, intervalSeconds, signal);
      }
      this.#attach(reopened);
      const seen = this.#timing.count;
      read = await this.#readToEnd(signal);
      // Only breaks in a row, with no event between them, use up the retries.
      if (this.#timing.count > seen) failures = 0;
    }
  }

  /** Closes a stream silent past --timeout and retrieves the status; a completion the stream never delivered is held back. */
  async #lookAfterSilence(id: string, signal: AbortSignal): Promise<ApiAnswer> {
    this.#close('idle');
    const closedAtSeconds = this.#session.clock.now().getTime() / 1000;
    const answer = await retrieveOnce(this.#session, id, signal);
    // Held back only when the server stamped its completion well before the silent stream was closed,
    // never for one that ended in the moment between the close and the retrieve.
    const completedAt = (answer.response as { completed_at?: unknown }).completed_at;
    if (typeof completedAt === 'number' && completedAt <= closedAtSeconds - HELD_BACK_MARGIN_SECONDS) this.#timing.heldBack(this.#session.clock.monotonic());
    return answer;
  }

  /** Reads the open stream to its end: a terminal event, a clean end without one, or a drop. */
  async #readToEnd(signal: AbortSignal): Promise<Read> {
    for (;;) {
      let event: StreamEvent | undefined;
      try {
        event = await this.#next(signal);
      } catch (error) {
        if (signal.aborted && error === signal.reason) throw error;
        return { kind: 'dropped', error };
      }
      if (event === undefined) return { kind: 'ended' };
      this.#note(event);
      const response = eventResponse(event);
      if (response && isTerminalEvent(event)) {
        this.#close('terminal');
        return { kind: 'terminal', response };
      }
    }
  }

  /**
   * The next event, undefined when the stream ended. A stop ends the wait at once, except right
   * after response.created: then the next event is awaited first (bounded), and the log says why.
   */
  async #next(signal: AbortSignal | undefined): Promise<StreamEvent | undefined> {
    const connection = this.#connection;
    if (!connection) return undefined;
    try {
      return await connection.next(signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) {
        if (this.#lastType === 'response.created') await this.#leaveAfterCreated(connection);
        this.#close('closed');
      }
      throw error;
    }
  }


  /** Waits, bounded, for the event after response.created before the stream is closed. */
  async #leaveAfterCreated(connection: StreamConnection): Promise<void> {
    const { journal } = this.#session;
    journal.warn(
      `Stopping right after response.created: waiting up to ${AFTER_CREATED_WAIT_MS / 1000} s for the next event before closing the stream, ` +
        'because a stream closed at that moment has left responses queued for many minutes',
    );
    const outcome = await connection.nextWithin(AFTER_CREATED_WAIT_MS);
    if (typeof outcome === 'object') {
      this.#note(outcome);
      journal.info(`Event ${outcome.sequenceNumber ?? '?'} (${oneLine(outcome.type)}) arrived; closing the stream`);
    } else journal.warn(outcome === 'timeout' ? `No event within ${AFTER_CREATED_WAIT_MS / 1000} s; closing the stream anyway` : 'The stream ended meanwhile');
  }


  /** Records an event: the cursor, its timing, its status, its text, its line in the log. */
  #note(event: StreamEvent): void {
    const session = this.#session;
    const gap = this.#timing.event(session.clock.monotonic(), event.sequenceNumber);
    if (gap) {
      const lost = gap.missing === 0 ? 'no event lost' : `${gap.missing} event${gap.missing === 1 ? '' : 's'} after ${gap.after} never arrived`;
      session.journal.info(`Stream resumed: event ${event.sequenceNumber ?? '?'} arrived ${gap.seconds.toFixed(1)} s after the break (${lost})`);
    }
    if (event.sequenceNumber !== undefined) this.#cursor = Math.max(this.#cursor ?? -1, event.sequenceNumber);
    this.#lastType = event.type;
    const response = eventResponse(event);
    if (response) {
      if (this.#id !== undefined && response.id !== this.#id) {
        throw new ProtocolError(`the event stream of response ${this.#id} carried response ${JSON.stringify(response.id)}; is a proxy or cache mixing up answers?`);
      }
      noteResponse(session, response);
      const status = typeof response.status === 'string' ? response.status : '';
      if (status !== '') session.journal.streamState({ status, polls: session.progress.polls, nextPollAt: undefined }, `stream event ${event.sequenceNumber ?? '?'}`, elapsedSeconds(session));
    }
    const delta = textDelta(event);
    if (delta !== undefined) session.journal.outputDelta(delta);
    const line = describeEvent(event);
    if (!line) return;
    if (line.reportOnly) session.journal.reportOnly(line.level, line.message);
    else session.journal[line.level === 'ERROR' ? 'error' : line.level === 'WARN' ? 'warn' : 'info'](line.message);
  }

  #attach(opened: Opened): void {
    this.#connection = new StreamConnection(opened);
  }


  /** Closes the open stream (if any), noting how it ended. */
  #close(how: 'terminal' | 'ended' | 'dropped' | 'idle' | 'closed'): void {
    if (!this.#connection) return;
    this.#timing.end(this.#session.clock.monotonic(), how, this.#cursor);
    this.#connection.close();
    this.#connection = undefined;
  }


  /** Reopens the stream after the cursor; undefined when the API refuses (then bgprobe polls). */
  async #resume(id: string, signal: AbortSignal): Promise<StreamAnswer | undefined> {
    this.#timing.open(this.#session.clock.monotonic(), this.#cursor ?? -1);
    try {
      return await this.#session.client.openRetrieveStream(id, this.#cursor, signal);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const why = `the API refused to resume the stream (${errorText(error)}): its resume window has passed (about 5 minutes), or the response was not created with stream: true`;
      this.#session.journal.warn(`${why}; following response ${id} by polling instead`);
      this.#fallBack(why);
      return undefined;
    }
  }

  #answerOf(event: StreamEvent, opened: Opened, verb: 'Created' | 'Attached to'): ApiAnswer {
    const response = eventResponse(event) as ResponseObject;
    this.#id ??= response.id;
    const answer = { response, status: opened.status, requestId: opened.requestId, headers: opened.headers };
    checkedStatus(answer, this.#id);
    noteResponse(this.#session, response);
    this.#session.journal.info(`${verb} response ${response.id}: status ${oneLine(String(response.status))} (stream event ${event.sequenceNumber ?? '?'}, ${oneLine(event.type)})`);
    return answer;
  }

  /** The server answered a streaming call with a plain Response object: it does not stream. Polling from here. */
  #notStreaming(answer: ApiAnswer, call: string): ApiAnswer {
    const why = `the server answered ${call} with a plain Response object, not an event stream: it does not stream`;
    this.#session.journal.warn(`${why}; following response ${answer.response.id} by polling`);
    this.#fallBack(why);
    this.#pollOnly = 'not streaming';
    noteResponse(this.#session, answer.response);
    return answer;
  }

  #fallBack(why: string): void {
    this.#timing.fallBack(why);
  }

  /** The timing line (and the finding, when the path buffers or cuts streams), on stderr and in the report. */
  #logTiming(stats: StreamStats): void {
    if (stats.streams_opened === 0) return;
    this.#session.journal.info(timingLine(stats));
    if (stats.finding) this.#session.journal.warn(stats.finding);
  }

}

