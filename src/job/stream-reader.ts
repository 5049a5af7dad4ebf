import type { ApiAnswer, StreamAnswer } from '../api/client.js';
import type { StreamCounts } from '../console/progress.js';
import type { ResponseObject } from '../api/response.js';
import type { StreamEvent } from '../api/sse.js';
import { ProtocolError } from '../errors.js';
import { oneLine } from '../text.js';
import { checkedStatus } from './poller.js';
import { elapsedSeconds, noteResponse, type Session } from './session.js';
import { StreamConnection } from './stream-connection.js';
import { describeEvent, eventResponse, textDelta } from './stream-events.js';
import { StreamTiming, type StreamStats } from './stream-timing.js';

/**
 * How long bgprobe keeps reading, when asked to stop, for the event after `response.created`:
 * a client that leaves right at `response.created` has left responses queued for ten minutes
 * and more (community.openai.com thread 1382584; shared/reference/field-2026.md).
 */
const AFTER_CREATED_WAIT_MS = 10_000;

export type OpenedStream = Extract<StreamAnswer, { kind: 'stream' }>;

/**
 * Stream mode's one reader, shared by the streamed create (stream-create.ts) and the follower
 * (stream-watch.ts), which goes on reading the create's stream: the open connection, the
 * cursor (every event's sequence_number), the timing, and what each event tells the run.
 */
export class StreamReader {
  readonly session: Session;
  readonly timing = new StreamTiming();
  /** The response followed; an event about another one is a protocol error. */
  id: string | undefined;
  /** Set when the server does not stream at all, or refused to: the follow is then polling. */
  pollOnly: string | undefined;
  #cursor: number | undefined;
  #lastType: string | undefined;
  #connection: StreamConnection | undefined;

  constructor(session: Session) {
    this.session = session;
  }

  /** The highest sequence_number seen: where a resumed stream starts (`starting_after`). */
  get cursor(): number | undefined {
    return this.#cursor;
  }

  get isOpen(): boolean {
    return this.#connection !== undefined;
  }

  /** A stream is being opened, the first or one that resumes after the cursor: its timing starts now. */
  opening(resuming: boolean): void {
    this.timing.open(this.session.clock.monotonic(), resuming ? (this.#cursor ?? -1) : undefined);
  }

  attach(opened: OpenedStream): void {
    this.timing.answered(this.session.clock.monotonic(), opened.answeredAfterMs);
    this.#connection = new StreamConnection(opened);
  }

  /** Closes the open stream (if any), noting how it ended. */
  close(how: 'terminal' | 'ended' | 'dropped' | 'idle' | 'closed'): void {
    if (!this.#connection) return;
    this.timing.end(this.session.clock.monotonic(), how, this.#cursor);
    this.#connection.close();
    this.#connection = undefined;
  }

  /** Events received and reconnects so far: what the live line shows in stream mode. */
  counts(): StreamCounts {
    return { events: this.timing.count, reconnects: this.timing.reconnects };
  }

  stats(response: ResponseObject | undefined): StreamStats {
    return this.timing.stats(response);
  }

  /**
   * The next event, undefined when the stream ended. A stop ends the wait at once, except right
   * after response.created: then the next event is awaited first (bounded), and the log says why.
   */
  async next(signal: AbortSignal | undefined): Promise<StreamEvent | undefined> {
    const connection = this.#connection;
    if (!connection) return undefined;
    try {
      return await connection.next(signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) {
        if (this.#lastType === 'response.created') await this.leaveAfterCreated();
        this.close('closed');
      }
      throw error;
    }
  }

  /** Waits, bounded, for the event after response.created before the stream is closed. */
  async leaveAfterCreated(): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    const { journal } = this.session;
    journal.warn(
      `Stopping right after response.created: waiting up to ${AFTER_CREATED_WAIT_MS / 1000} s for the next event before closing the stream, ` +
        'because a stream closed at that moment has left responses queued for many minutes',
    );
    const outcome = await connection.nextWithin(AFTER_CREATED_WAIT_MS);
    if (typeof outcome === 'object') {
      this.note(outcome);
      journal.info(`Event ${outcome.sequenceNumber ?? '?'} (${oneLine(outcome.type)}) arrived; closing the stream`);
    } else journal.warn(outcome === 'timeout' ? `No event within ${AFTER_CREATED_WAIT_MS / 1000} s; closing the stream anyway` : 'The stream ended meanwhile');
  }

  /** Records an event: the cursor, its timing, its status, its text, its line in the log. */
  note(event: StreamEvent): void {
    const session = this.session;
    const gap = this.timing.event(session.clock.monotonic(), event.sequenceNumber);
    if (gap) {
      const lost = gap.missing === 0 ? 'no event lost' : `${gap.missing} event${gap.missing === 1 ? '' : 's'} after ${gap.after} never arrived`;
      session.journal.info(`Stream resumed: event ${event.sequenceNumber ?? '?'} arrived ${gap.seconds.toFixed(1)} s after the break (${lost})`);
    }
    if (event.sequenceNumber !== undefined) this.#cursor = Math.max(this.#cursor ?? -1, event.sequenceNumber);
    this.#lastType = event.type;
    const response = eventResponse(event);
    if (response) {
      if (this.id !== undefined && response.id !== this.id) {
        throw new ProtocolError(`the event stream of response ${this.id} carried response ${JSON.stringify(response.id)}; is a proxy or cache mixing up answers?`);
      }
      noteResponse(session, response);
    }
    const status = response ? (typeof response.status === 'string' ? response.status : '') : (session.progress.lastSeen?.status ?? '');
    if (status !== '') {
      const state = { status, polls: session.progress.polls, nextPollAt: undefined, stream: this.counts() };
      if (response) session.journal.streamState(state, `stream event ${event.sequenceNumber ?? '?'}`, elapsedSeconds(session));
      else session.journal.liveState(state);
    }
    const delta = textDelta(event);
    if (delta !== undefined) session.journal.outputDelta(delta);
    const line = describeEvent(event);
    if (!line) return;
    if (line.reportOnly) session.journal.reportOnly(line.level, line.message);
    else session.journal[line.level === 'ERROR' ? 'error' : line.level === 'WARN' ? 'warn' : 'info'](line.message);
  }

  /** The first answer of a stream: the Response its first event carries, as a create or retrieve would answer it. */
  answerOf(event: StreamEvent, opened: OpenedStream, verb: 'Created' | 'Attached to'): ApiAnswer {
    const response = eventResponse(event) as ResponseObject;
    this.id ??= response.id;
    const answer = { response, status: opened.status, requestId: opened.requestId, headers: opened.headers };
    checkedStatus(answer, this.id);
    noteResponse(this.session, response);
    this.session.journal.info(`${verb} response ${response.id}: status ${oneLine(String(response.status))} (stream event ${event.sequenceNumber ?? '?'}, ${oneLine(event.type)})`);
    return answer;
  }

  /** The server answered a streaming call with a plain Response object: it does not stream. Polling from here. */
  notStreaming(answer: ApiAnswer, call: string): ApiAnswer {
    const why = `the server answered ${call} with a plain Response object, not an event stream: it does not stream`;
    this.session.journal.warn(`${why}; following response ${answer.response.id} by polling`);
    this.timing.fallBack(why);
    this.pollOnly = 'not streaming';
    noteResponse(this.session, answer.response);
    return answer;
  }
}
