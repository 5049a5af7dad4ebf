import { FAULT_SYNTAX } from '../cli/fault-syntax.js';

/**
 * Scripted faults of the emulator, so tests (and anyone with `bgprobe emulate --fault`) can
 * drive every failure bgprobe must survive. A fault names a call and its number, counted per
 * call from 1: `poll3=drop` drops the connection of the third poll; `poll3+=503` answers 503
 * to the third poll and every later one. `stream` counts the calls that ask for an event stream
 * (a create with `stream: true`, a retrieve with `?stream=true`): `stream1=drop-after:5` cuts
 * the first stream after its event 5; a stream fault wins over a create or poll fault.
 */
export type FaultCall = 'create' | 'poll' | 'cancel' | 'stream';

export type FaultAction =
  /** Read the request (a create still creates its job), then close the connection without an answer. */
  | { readonly kind: 'drop' }
  /** Answer this HTTP status with the API's error envelope. */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string; readonly retryAfterMs?: string; readonly quota?: boolean }
  /** Answer normally, after a delay. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** A 200 whose body is an HTML page, as a captive portal or block page sends. */
  | { readonly kind: 'not-json' }
  /** A 200 Response object without `status`. */
  | { readonly kind: 'no-status' }
  /** A 200 Response object about another response id. */
  | { readonly kind: 'wrong-id' }
  /** A 200 Response object with this status instead of the real one (such as `expired`). */
  | { readonly kind: 'set-status'; readonly status: string }
  /** The normal answer, padded with JSON whitespace to this many bytes: a large payload, same object. */
  | { readonly kind: 'large'; readonly bytes: number }
  /** A stream: cut the connection right after the event with this sequence number. */
  | { readonly kind: 'drop-after'; readonly sequenceNumber: number }
  /** A stream: refuse it with the 400 the API sends once a response is too old to stream again. */
  | { readonly kind: 'too-old' }
  /** A stream: hold every event back and send them all at once when the response ends, as a buffering proxy does. */
  | { readonly kind: 'buffer' }
  /** A stream: the real-wire `error` event (fields nested in `error`), then `response.failed`. */
  | { readonly kind: 'error-event' };

/** The largest padded answer: a quarter of what V8 can hold as one string, four times the default --max-response-bytes. */
const MAX_LARGE_BYTES = 256 * 1024 * 1024;

export interface Fault {
  readonly call: FaultCall;
  readonly nth: number;
  /** Also every later call of that kind. */
  readonly andLater: boolean;
  readonly action: FaultAction;
}

/** Parses `poll2=drop,poll3=429:retry-after=1`; throws an Error saying what is wrong. */
export function parseFaults(text: string): Fault[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(parseFault);
}

function parseFault(text: string): Fault {
  const match = /^(create|poll|cancel|stream)(\d+)(\+?)=(.+)$/.exec(text);
  const nth = Number(match?.[2]);
  if (!match || !(nth >= 1)) throw new Error(`fault ${JSON.stringify(text)} is not CALLN=ACTION; syntax: ${FAULT_SYNTAX}`);
  return { call: match[1] as FaultCall, nth, andLater: match[3] === '+', action: parseAction(match[4] as string, text) };
}

function parseAction(text: string, whole: string): FaultAction {
  const [name = '', ...options] = text.split(':');
  const bad = () => new Error(`fault ${JSON.stringify(whole)} has an unknown action; syntax: ${FAULT_SYNTAX}`);
  if (name === 'drop' || name === 'not-json' || name === 'no-status' || name === 'wrong-id' || name === 'too-old' || name === 'buffer' || name === 'error-event') {
    if (options.length > 0) throw bad();
    return { kind: name };
  }
  if (name === 'slow') {
    const delayMs = Number(options[0]);
    if (options.length !== 1 || !/^\d+$/.test(options[0] ?? '')) throw bad();
    return { kind: 'slow', delayMs };
  }
  if (name === 'drop-after') {
    if (options.length !== 1 || !/^\d+$/.test(options[0] ?? '')) throw bad();
    return { kind: 'drop-after', sequenceNumber: Number(options[0]) };
  }
  if (name === 'large') {
    const bytes = Number(options[0]);
    if (options.length !== 1 || !/^\d+$/.test(options[0] ?? '')) throw bad();
    if (bytes > MAX_LARGE_BYTES) throw new Error(`fault ${JSON.stringify(whole)} asks for more than ${MAX_LARGE_BYTES} bytes; give at most that`);
    return { kind: 'large', bytes };
  }
  if (name === 'status') {
    if (options.length !== 1 || !/^[a-z_]+$/.test(options[0] ?? '')) throw bad();
    return { kind: 'set-status', status: options[0] as string };
  }
  if (/^[45]\d\d$/.test(name)) {
    let action: { kind: 'status'; status: number; retryAfter?: string; retryAfterMs?: string; quota?: boolean } = { kind: 'status', status: Number(name) };
    for (const option of options) {
      const [key, value] = option.split('=');
      if (key === 'retry-after' && value) action = { ...action, retryAfter: value };
      else if (key === 'retry-after-ms' && value) action = { ...action, retryAfterMs: value };
      else if (key === 'quota' && value === undefined) action = { ...action, quota: true };
      else throw bad();
    }
    return action;
  }
  throw bad();
}

/** The fault for the `count`-th call of a kind, if any; the first listed wins. */
export function faultFor(faults: readonly Fault[], call: FaultCall, count: number): FaultAction | undefined {
  return faults.find((f) => f.call === call && (f.nth === count || (f.andLater && count > f.nth)))?.action;
}
