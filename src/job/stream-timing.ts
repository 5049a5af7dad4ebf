import type { ResponseObject } from '../api/response.js';

/*
 * When a stream's events arrived, and what that says about the path: a proxy that buffers
 * `text/event-stream` delivers everything in one burst at the end; one that cuts long-lived
 * connections ends every stream at about the same age. Pure bookkeeping, fed with monotonic ms.
 */

/** One HTTP stream: the create's, an attach, or a resume. */
interface Connection {
  /** When the attempt that answered was sent (a retried open's earlier attempts and pauses are not the path's doing). */
  openedAt: number;
  /** Whether it was opened with `starting_after`: its wait before the first event says nothing about buffering. */
  readonly resumed: boolean;
  firstEventAt: number | undefined;
  lastEventAt: number | undefined;
  events: number;
  /** How it ended: a terminal event, a clean end without one, a drop, silent past --timeout (bgprobe's own limit), or closed by bgprobe. */
  ending: 'terminal' | 'ended' | 'dropped' | 'idle' | 'closed' | undefined;
  endedAt: number | undefined;
}

/** A resume: the cursor it started after, how long nothing could arrive, and events the server skipped. */
interface StreamGap {
  readonly after: number | null;
  readonly seconds: number;
  /** Sequence numbers neither seen before the drop nor sent after it (0 when the resume was seamless). */
  readonly missing: number;
}

/** The stream's part of the report and of --json. */
export interface StreamStats {
  readonly events: number;
  readonly streams_opened: number;
  readonly time_to_first_event_seconds: number | null;
  readonly longest_silence_seconds: number | null;
  /** completed_at - created_at, as the server stamps them (whole seconds). */
  readonly server_production_seconds: number | null;
  /** From the first event's arrival to the last's, on the stream that carried the most events. */
  readonly arrival_spread_seconds: number | null;
  readonly gaps: readonly StreamGap[];
  /** live, buffered (one burst at the end), cut (at a regular age), or unknown (too few events, or all at once from a replay, to tell). */
  readonly delivery: 'live' | 'buffered' | 'cut' | 'unknown';
  /** The plain statement of what buffers or cuts, and what it means; null when delivery looked live. */
  readonly finding: string | null;
  /** Why bgprobe stopped reading events and polled instead; null when it never did. */
  readonly fallback: string | null;
}

/** A stream at least this long before its first event, whose events then came together faster than the server made them, was held back. */
const BUFFERED_FIRST_EVENT_MS = 2000;
/** Events spread over at least this long on one stream show live delivery. */
const LIVE_SPREAD_MS = 500;

export class StreamTiming {
  readonly #connections: Connection[] = [];
  readonly #gaps: StreamGap[] = [];
  #events = 0;
  #firstOpenedAt: number | undefined;
  #firstEventAt: number | undefined;
  #lastArrival: number | undefined;
  #longestSilence = 0;
  #dropAt: number | undefined;
  #dropCursor: number | undefined;
  #fallback: string | undefined;
  #heldBackSeconds: number | undefined;

  /** Events seen so far, over every stream. */
  get count(): number {
    return this.#events;
  }

  /** Streams opened again after the first (resumed after a break, or reopened after a look). */
  get reconnects(): number {
    return Math.max(0, this.#connections.length - 1);
  }

  /** A stream opened at `now`; `resumedAfter` is the cursor it resumes from. */
  open(now: number, resumedAfter?: number): void {
    this.#firstOpenedAt ??= now;
    this.#lastArrival ??= now;
    this.#connections.push({ openedAt: now, resumed: resumedAfter !== undefined, firstEventAt: undefined, lastEventAt: undefined, events: 0, ending: undefined, endedAt: undefined });
  }

  /**
   * The open stream answered at `now`, its answering attempt `tookMs` after it was sent: its wait and
   * age count from that attempt, so a retry's pause (Retry-After, backoff) is never taken for holding back.
   */
  answered(now: number, tookMs: number): void {
    const connection = this.#connections.at(-1);
    if (connection) connection.openedAt = Math.max(connection.openedAt, now - tookMs);
  }

  /** An event arrived; returns the gap it closes when it is the first after a drop. */
  event(now: number, sequenceNumber: number | undefined): StreamGap | undefined {
    const connection = this.#connections.at(-1);
    if (connection) {
      connection.firstEventAt ??= now;
      connection.lastEventAt = now;
      connection.events += 1;
    }
    this.#events += 1;
    this.#firstEventAt ??= now;
    if (this.#lastArrival !== undefined) this.#longestSilence = Math.max(this.#longestSilence, now - this.#lastArrival);
    this.#lastArrival = now;
    if (this.#dropAt === undefined) return undefined;
    const after = this.#dropCursor;
    const missing = sequenceNumber !== undefined && after !== undefined ? Math.max(0, sequenceNumber - after - 1) : 0;
    const gap = { after: after ?? null, seconds: round((now - this.#dropAt) / 1000), missing };
    this.#gaps.push(gap);
    this.#dropAt = undefined;
    return gap;
  }

  /** The current stream ended; a drop or an end without a terminal event opens a gap until the next event. */
  end(now: number, how: 'terminal' | 'ended' | 'dropped' | 'idle' | 'closed', cursor: number | undefined): void {
    const connection = this.#connections.at(-1);
    if (connection && connection.ending === undefined) {
      connection.ending = how;
      connection.endedAt = now;
      // A silence that ended with the stream (nothing came until it dropped or the run stopped) counts too.
      if (this.#lastArrival !== undefined) this.#longestSilence = Math.max(this.#longestSilence, now - this.#lastArrival);
    }
    if (how === 'ended' || how === 'dropped' || how === 'idle') {
      this.#dropAt ??= now;
      this.#dropCursor = cursor;
    }
  }

  /**
   * The stream went silent past --timeout and a retrieve then found the response ended: the
   * server produced events (at least the terminal one) that never arrived.
   */
  heldBack(now: number): void {
    const connection = this.#connections.at(-1);
    if (connection?.ending === 'idle' && connection.events === 0) this.#heldBackSeconds = ((connection.endedAt ?? now) - connection.openedAt) / 1000;
  }

  fallBack(why: string): void {
    this.#fallback ??= why;
  }

  stats(response: ResponseObject | undefined): StreamStats {
    const production = serverSeconds(response);
    const busiest = [...this.#connections].sort((a, b) => b.events - a.events)[0];
    const spread = busiest?.firstEventAt !== undefined && busiest.lastEventAt !== undefined ? busiest.lastEventAt - busiest.firstEventAt : undefined;
    const { delivery, finding } = this.#verdict(production);
    return {
      events: this.#events,
      streams_opened: this.#connections.length,
      time_to_first_event_seconds: this.#firstEventAt !== undefined && this.#firstOpenedAt !== undefined ? round((this.#firstEventAt - this.#firstOpenedAt) / 1000) : null,
      longest_silence_seconds: this.#connections.length > 0 ? round(this.#longestSilence / 1000) : null,
      server_production_seconds: production ?? null,
      arrival_spread_seconds: spread === undefined ? null : round(spread / 1000),
      gaps: [...this.#gaps],
      delivery,
      finding,
      fallback: this.#fallback ?? null,
    };
  }

  #verdict(production: number | undefined): { delivery: StreamStats['delivery']; finding: string | null } {
    const buffered = this.#connections.find((c) => {
      // Only a stream that starts from the beginning (the create's, or an attach) has an event to
      // send at once, so only its long wait marks holding back. A resumed one with nothing missed
      // to replay waits as long as the response is silent (still queued, or thinking).
      if (c.resumed || c.events < 3 || c.firstEventAt === undefined || c.lastEventAt === undefined) return false;
      const wait = c.firstEventAt - c.openedAt;
      const burst = c.lastEventAt - c.firstEventAt;
      // A slow answer to the open (a busy server, a long upload) and then a fast short response make the
      // same bytes: only a burst shorter than the server's own stamps say the response took (at least
      // production - 1 s, whole-second stamps) shows events held back.
      const heldLonger = production !== undefined && (production - 1) * 1000 > burst;
      return wait >= BUFFERED_FIRST_EVENT_MS && burst <= Math.max(250, 0.1 * (c.lastEventAt - c.openedAt)) && heldLonger;
    });
    if (buffered?.firstEventAt !== undefined && buffered.lastEventAt !== undefined) {
      const wait = (buffered.firstEventAt - buffered.openedAt) / 1000;
      const burst = Math.round(buffered.lastEventAt - buffered.firstEventAt);
      const produced = production !== undefined && production >= 1 ? `, while the server says it produced them over about ${production} s` : '';
      return {
        delivery: 'buffered',
        finding:
          `The stream's ${buffered.events} events arrived in one burst at the end: nothing for ${wait.toFixed(1)} s, then all within ${burst} ms${produced}. ` +
          'Something between bgprobe and the API (a proxy, a gateway, a TLS-inspecting firewall) buffers server-sent events (text/event-stream) until the response ends: ' +
          'every streaming client in this sandbox (SDK streams, chat tools, coding agents) will look frozen until the whole answer is written, and may time out first. ' +
          'Background mode with polling is not affected; to stream, ask for text/event-stream to be passed through unbuffered.',
      };
    }
    if (this.#heldBackSeconds !== undefined) {
      const seconds = this.#heldBackSeconds.toFixed(1);
      return {
        delivery: 'buffered',
        finding:
          `No event arrived for ${seconds} s while the server finished the response (a retrieve found it ended): something between bgprobe and the API holds server-sent events (text/event-stream) back. ` +
          'Streaming clients in this sandbox will look frozen and may time out before the answer arrives; background mode with polling is not affected.',
      };
    }
    const cut = this.#connections.filter((c) => c.ending === 'dropped' || c.ending === 'ended').map((c) => (c.endedAt ?? c.openedAt) - c.openedAt);
    if (cut.length >= 2) {
      const shortest = Math.min(...cut);
      const longest = Math.max(...cut);
      if (shortest >= 1000 && longest <= shortest * 1.15 + 250) {
        const age = ((shortest + longest) / 2000).toFixed(1);
        return {
          delivery: 'cut',
          finding:
            `The stream was cut ${cut.length} times, each after about ${age} s open. Something between bgprobe and the API closes long-lived connections at that age: ` +
            `streaming clients in this sandbox lose any answer that takes longer than about ${age} s unless they resume with starting_after, as bgprobe does; polling is not affected.`,
        };
      }
    }
    // Live means events seen arriving over time; a replay of a finished response comes at once and shows nothing.
    const spread = this.#connections.some((c) => c.events >= 3 && c.firstEventAt !== undefined && c.lastEventAt !== undefined && c.lastEventAt - c.firstEventAt >= LIVE_SPREAD_MS);
    return { delivery: spread ? 'live' : 'unknown', finding: null };
  }
}

/** completed_at - created_at, when the server stamped both. */
function serverSeconds(response: ResponseObject | undefined): number | undefined {
  const record = response as Record<string, unknown> | undefined;
  const created = record?.['created_at'];
  const completed = record?.['completed_at'];
  return typeof created === 'number' && typeof completed === 'number' && completed >= created ? completed - created : undefined;
}

function round(seconds: number): number {
  return Number(seconds.toFixed(3));
}
