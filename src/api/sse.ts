import { ProtocolError } from '../errors.js';
import { isRecord } from './response.js';

/*
 * Server-sent events as the Responses API sends them (`event: <type>`, `data: <json>`, a blank
 * line), read the way the wire actually delivers them: events split anywhere across chunks
 * (even inside a UTF-8 character or a CRLF), comments and keep-alives, a `data: [DONE]`
 * sentinel some servers add, and an `error` event in both of its shapes.
 */

/** One frame: the fields of the event stream format, before its data is read as JSON. */
export interface SseFrame {
  /** The `event:` field; "message" when the frame has none, as the format defines. */
  readonly event: string;
  /** The `data:` lines joined with "\n". */
  readonly data: string;
  /** Characters of the frame on the wire (its bytes, for ASCII JSON), for the report. */
  readonly chars: number;
  /** A large done event read without keeping its data (see BULK_EVENTS): only its cursor was taken. */
  readonly skipped?: { readonly sequenceNumber: number | undefined };
}

/**
 * Done events that repeat the whole text already sent as deltas and again in the terminal
 * event's Response: when one is large, only its sequence_number is read and its data dropped as
 * it arrives, so a 20 MB answer is not held four more times.
 */
const BULK_EVENTS: ReadonlySet<string> = new Set(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.reasoning_text.done']);
/** A data line of a bulk event longer than this is skipped rather than kept. */
const SKIP_AFTER_CHARS = 1 << 20;
const SEQUENCE_KEY = /"sequence_number"\s*:\s*(\d+)/g;

/**
 * Splits a byte stream into frames. `push` takes each chunk as it arrives and returns the
 * frames it completed. A frame that grows past `capBytes` before it ends is refused (a
 * `ProtocolError`): the API's largest event holds the whole response, which the same cap as
 * a retrieve (--max-response-bytes) bounds.
 */
export class SseParser {
  readonly #capBytes: number;
  readonly #decoder = new TextDecoder('utf-8');
  /** Pieces of the current, unfinished line: joined once it ends, so a long line is never copied per chunk. */
  #lineParts: string[] = [];
  #lineLength = 0;
  /** A chunk ended on "\r": a "\n" that starts the next one belongs to the same line break. */
  #afterCarriageReturn = false;
  #event = '';
  #data: string[] = [];
  /** Characters of the current frame's finished lines (its size on the wire, for ASCII JSON). */
  #frameChars = 0;
  #hasData = false;
  /** The current line is a bulk event's data, being scanned for its cursor and dropped. */
  #skipping = false;
  /** The end of the text scanned so far, so a key split between chunks is still found. */
  #skipCarry = '';
  #skippedSequence: number | undefined;
  #frameSkipped = false;

  constructor(capBytes: number) {
    this.#capBytes = capBytes;
  }

  push(chunk: Uint8Array): SseFrame[] {
    return this.#text(this.#decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: a last frame without its blank line is dropped, as the format says. */
  end(): SseFrame[] {
    const rest = this.#decoder.decode();
    return rest === '' ? [] : this.#text(rest);
  }

  #text(text: string): SseFrame[] {
    const frames: SseFrame[] = [];
    let start = 0;
    if (this.#afterCarriageReturn && text.startsWith('\n')) start = 1;
    this.#afterCarriageReturn = false;
    for (;;) {
      const end = nextLineBreak(text, start);
      if (end < 0) break;
      if (this.#skipping) {
        this.#scan(text.slice(start, end));
        this.#frameChars += this.#lineLength + (end - start) + 1;
        this.#lineLength = 0;
        this.#skipping = false;
        this.#frameSkipped = true;
        this.#hasData = true;
      } else {
        this.#lineParts.push(text.slice(start, end));
        const line = this.#lineParts.length === 1 ? (this.#lineParts[0] as string) : this.#lineParts.join('');
        this.#lineParts = [];
        this.#lineLength = 0;
        const frame = this.#line(line);
        if (frame) frames.push(frame);
      }
      if (text[end] !== '\r') start = end + 1;
      else if (end + 1 === text.length) {
        this.#afterCarriageReturn = true;
        start = end + 1;
      } else start = text[end + 1] === '\n' ? end + 2 : end + 1;
    }
    if (start < text.length) {
      if (this.#skipping) this.#scan(text.slice(start));
      else this.#lineParts.push(text.slice(start));
      this.#lineLength += text.length - start;
      if (!this.#skipping && this.#lineLength > SKIP_AFTER_CHARS && BULK_EVENTS.has(this.#event) && this.#lineParts[0]?.startsWith('data:')) {
        this.#skipCarry = '';
        this.#skippedSequence = undefined;
        this.#scan(this.#lineParts.join(''));
        this.#lineParts = [];
        this.#skipping = true;
      }
    }
    if (this.#frameChars + this.#lineLength > this.#capBytes) {
      throw new ProtocolError(`a server-sent event grew past ${this.#capBytes} bytes (the --max-response-bytes cap) before it ended; the API never sends one that large, so something else answered`);
    }
    return frames;
  }

  /** Looks for the event's sequence_number in skipped data; a JSON string holds `\"`, so a match is a key. */
  #scan(piece: string): void {
    const text = this.#skipCarry + piece;
    for (const match of text.matchAll(SEQUENCE_KEY)) this.#skippedSequence = Number(match[1]);
    this.#skipCarry = text.slice(-64);
  }

  /** One line of the format; a blank line ends the frame. */
  #line(line: string): SseFrame | undefined {
    this.#frameChars += line.length + 1;
    if (line === '') {
      const event = this.#event || 'message';
      const skipped = this.#frameSkipped ? { skipped: { sequenceNumber: this.#skippedSequence } } : {};
      const frame = this.#hasData ? { event, data: this.#data.join('\n'), chars: this.#frameChars, ...skipped } : undefined;
      this.#frameSkipped = false;
      this.#skippedSequence = undefined;
      this.#event = '';
      this.#data = [];
      this.#hasData = false;
      this.#frameChars = 0;
      return frame;
    }
    // A comment: the keep-alive some servers and proxies send (": ping").
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') {
      this.#hasData = true;
      // A bulk event that arrived whole in one chunk: still not parsed (its cursor is all bgprobe needs).
      if (value.length > SKIP_AFTER_CHARS && BULK_EVENTS.has(this.#event)) {
        this.#skipCarry = '';
        this.#skippedSequence = undefined;
        this.#scan(value);
        this.#frameSkipped = true;
      } else this.#data.push(value);
    }
    // `id:` and `retry:` steer browsers' reconnection; bgprobe resumes with sequence_number instead.
    return undefined;
  }
}

function nextLineBreak(text: string, from: number): number {
  const lf = text.indexOf('\n', from);
  const cr = text.indexOf('\r', from);
  if (cr < 0) return lf;
  if (lf < 0) return cr;
  return Math.min(cr, lf);
}

/** One event of a Responses stream, its JSON read. */
export interface StreamEvent {
  readonly type: string;
  /** The cursor for resuming; undefined when the server left it out. */
  readonly sequenceNumber: number | undefined;
  readonly data: Readonly<Record<string, unknown>>;
  readonly chars: number;
  /** A large done event whose data was dropped unread (only its cursor kept). */
  readonly skipped?: boolean;
}

/**
 * Reads a frame's JSON. Returns undefined for the `[DONE]` sentinel (the Responses API does not
 * send it; other servers with the same API do, and the official SDK tolerates it).
 */
export function readStreamEvent(frame: SseFrame): StreamEvent | undefined {
  if (frame.skipped) {
    const { sequenceNumber } = frame.skipped;
    return { type: frame.event, sequenceNumber, data: { type: frame.event, sequence_number: sequenceNumber }, chars: frame.chars, skipped: true };
  }
  if (frame.data.trim() === '[DONE]') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(frame.data);
  } catch {
    throw new ProtocolError(`a server-sent event (${JSON.stringify(frame.event.slice(0, 60))}) carries data that is not JSON: ${JSON.stringify(frame.data.slice(0, 120))}`);
  }
  if (!isRecord(data)) throw new ProtocolError(`a server-sent event (${JSON.stringify(frame.event.slice(0, 60))}) carries JSON that is not an object`);
  // The JSON's `type` repeats the event name; the JSON wins when a server sends only `data:` lines.
  const type = typeof data['type'] === 'string' ? data['type'] : frame.event;
  const sequence = data['sequence_number'];
  return {
    type,
    sequenceNumber: typeof sequence === 'number' && Number.isInteger(sequence) && sequence >= 0 ? sequence : undefined,
    data,
    chars: frame.chars,
  };
}

interface StreamErrorFields {
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly type: string | undefined;
}

/**
 * The fields of an `error` event. The spec (ResponseErrorEvent) puts code and message at the top
 * level; the real wire nests them in an `error` object (openai/openai-dotnet#881). Both are read.
 */
export function streamErrorFields(data: Readonly<Record<string, unknown>>): StreamErrorFields {
  const nested = isRecord(data['error']) ? data['error'] : undefined;
  const pick = (name: string): string | undefined => {
    const value = nested?.[name] ?? data[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { code: pick('code'), message: pick('message'), type: nested ? pick('type') : undefined };
}
