import type { ServerResponse } from 'node:http';
import type { FaultAction } from './faults.js';
import { errorEnvelope, requestId, responseObject, type StoredResponse } from './objects.js';

/*
 * The emulator's event streams: a background response created with `stream: true` is sent as
 * server-sent events in the real order and shapes (responses-api-facts §3): created (queued),
 * queued, in_progress, the output items with their content parts and text deltas, the done
 * events, then the terminal event. A retrieve with `?stream=true&starting_after=N` replays the
 * events after N that were already produced, then follows live, as the API does.
 */

/** What the stream needs to know of one emulated response. */
export interface StreamSource {
  readonly stored: StoredResponse;
  readonly createdMs: number;
  /** When the response leaves `queued`, and when it reaches its final status (ms after creation). */
  readonly queuedMs: number;
  readonly finishMs: number;
  readonly finalStatus: string;
  readonly neverFinish: boolean;
  /** The status pinned by a cancel (or by the error-event fault), if any. */
  pinned(): string | undefined;
  pin(status: string): void;
}

interface Planned {
  /** When it is produced, in ms after the response's creation. */
  readonly atMs: number;
  readonly build: (sequenceNumber: number, nowSeconds: number) => Record<string, unknown>;
}

/** Text deltas per answer: about twenty, each at most 64 KiB (a 20 MB answer then takes some 320). */
const DELTAS = 20;
const MAX_DELTA_CHARS = 64 * 1024;
/** A comment line sent while nothing happens, as keep-alive, so idle timeouts along the way stay quiet. */
const KEEP_ALIVE_MS = 5000;

/** The events of a response from creation to its end, with the times the emulator produces them. */
export function planEvents(source: StreamSource, fault: FaultAction | undefined): Planned[] {
  const { stored, queuedMs, finishMs, finalStatus } = source;
  const suffix = stored.id.slice('resp_'.length);
  const withResponse = (type: string, status: string) => (seq: number, now: number) => ({ type, sequence_number: seq, response: responseObject(stored, status, now) });
  const plan: Planned[] = [
    { atMs: 0, build: withResponse('response.created', 'queued') },
    { atMs: 0, build: withResponse('response.queued', 'queued') },
    { atMs: queuedMs, build: withResponse('response.in_progress', 'in_progress') },
  ];
  if (source.neverFinish) return plan;
  const reasoning = { id: `rs_${suffix}`, type: 'reasoning', summary: [] };
  plan.push(
    { atMs: queuedMs, build: (seq) => ({ type: 'response.output_item.added', sequence_number: seq, output_index: 0, item: reasoning }) },
    { atMs: queuedMs, build: (seq) => ({ type: 'response.output_item.done', sequence_number: seq, output_index: 0, item: reasoning }) },
  );
  const failing = fault?.kind === 'error-event' ? 'failed' : finalStatus;
  if (failing === 'completed' || failing === 'incomplete') {
    const text = failing === 'incomplete' ? stored.outputText.slice(0, Math.ceil(stored.outputText.length / 2)) : stored.outputText;
    const item_id = `msg_${suffix}`;
    const at = { item_id, output_index: 1, content_index: 0 };
    const part = (t: string) => ({ type: 'output_text', text: t, annotations: [], logprobs: [] });
    const message = (status: string, content: unknown[]) => ({ id: item_id, type: 'message', status, role: 'assistant', content });
    plan.push(
      { atMs: queuedMs, build: (seq) => ({ type: 'response.output_item.added', sequence_number: seq, output_index: 1, item: message('in_progress', []) }) },
      { atMs: queuedMs, build: (seq) => ({ type: 'response.content_part.added', sequence_number: seq, ...at, part: part('') }) },
    );
    const size = Math.min(MAX_DELTA_CHARS, Math.max(1, Math.ceil(text.length / DELTAS)));
    const count = Math.ceil(text.length / size);
    for (let i = 0; i < count; i++) {
      const delta = text.slice(i * size, (i + 1) * size);
      const atMs = queuedMs + ((finishMs - queuedMs) * (i + 1)) / (count + 1);
      plan.push({ atMs, build: (seq) => ({ type: 'response.output_text.delta', sequence_number: seq, ...at, delta, logprobs: [] }) });
    }
    const itemStatus = failing === 'incomplete' ? 'incomplete' : 'completed';
    plan.push(
      { atMs: finishMs, build: (seq) => ({ type: 'response.output_text.done', sequence_number: seq, ...at, text, logprobs: [] }) },
      { atMs: finishMs, build: (seq) => ({ type: 'response.content_part.done', sequence_number: seq, ...at, part: part(text) }) },
      { atMs: finishMs, build: (seq) => ({ type: 'response.output_item.done', sequence_number: seq, output_index: 1, item: message(itemStatus, [part(text)]) }) },
    );
  }
  if (fault?.kind === 'error-event') {
    // The shape the real wire sends (openai/openai-dotnet#881), not the spec's top-level fields.
    const error = { type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request. Sorry about that!', param: null };
    plan.push({
      atMs: finishMs,
      build: (seq) => {
        source.pin('failed');
        return { type: 'error', sequence_number: seq, error };
      },
    });
  }
  if (failing === 'completed' || failing === 'failed' || failing === 'incomplete') plan.push({ atMs: finishMs, build: withResponse(`response.${failing}`, failing) });
  // Any other final status (cancelled, or a made-up one): the stream just ends; a client must retrieve.
  return plan;
}

/** The 400 for a stream the API will not start (too old, or not created with stream: true). Our wording: the API's is not documented. */
export function refusal(kind: 'too-old' | 'not-streamed', id: string): [number, unknown] {
  const message =
    kind === 'too-old'
      ? `Response '${id}' cannot be streamed: it was created more than 5 minutes ago. Retrieve it without stream=true instead.`
      : `Response '${id}' was not created with stream=true, so it cannot be streamed.`;
  return [400, errorEnvelope(message, 'invalid_request_error', 'stream', null)];
}

/**
 * Sends the events after `startingAfter` (all when undefined), each at its production time, with
 * the stream faults applied: drop-after (the connection cut after that event), buffer (every
 * event held back until the last one). Ends the stream after the terminal event, or when a cancel
 * pins the response.
 */
export async function sendStream(res: ServerResponse, source: StreamSource, startingAfter: number | undefined, fault: FaultAction | undefined, plan: readonly Planned[], started: number): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId(),
    'openai-version': '2020-10-01',
    'openai-organization': 'org-emulator',
    'openai-processing-ms': String(Math.max(1, Math.round(performance.now() - started))),
  });
  const held: string[] = [];
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const write = async (text: string) => {
    if (fault?.kind === 'buffer') return void held.push(text);
    if (res.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done).off('close', done);
        resolve();
      };
      res.on('drain', done).on('close', done);
    });
  };
  if (fault?.kind !== 'buffer') res.flushHeaders();
  for (let seq = (startingAfter ?? -1) + 1; seq < plan.length; seq++) {
    const planned = plan[seq] as Planned;
    for (;;) {
      const wait = source.createdMs + planned.atMs - Date.now();
      if (wait <= 0 || closed) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, KEEP_ALIVE_MS)).unref());
      if (wait > KEEP_ALIVE_MS && !closed) await write(': keep-alive\n\n');
    }
    if (closed) return;
    // A cancel ends the stream without a terminal event: the client must retrieve to learn why.
    if (source.pinned() === 'cancelled') break;
    const event = planned.build(seq, Math.floor(Date.now() / 1000));
    await write(`event: ${String(event['type'])}\ndata: ${JSON.stringify(event)}\n\n`);
    if (fault?.kind === 'drop-after' && fault.sequenceNumber === seq) {
      // Cut once what was written has left, so the client really has every event up to this one.
      await new Promise<void>((resolve) => res.write('', () => resolve()));
      res.socket?.destroy();
      return;
    }
  }
  if (source.neverFinish && !closed) {
    // In progress forever: keep the stream open, with keep-alives, until the client leaves.
    while (!closed) {
      await new Promise((resolve) => setTimeout(resolve, KEEP_ALIVE_MS).unref());
      if (!closed) await write(': keep-alive\n\n');
    }
    return;
  }
  // A stream without a terminal event (a cancel, another final status) stays open until the response ends.
  while (!closed && source.pinned() !== 'cancelled' && Date.now() < source.createdMs + source.finishMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(KEEP_ALIVE_MS, source.createdMs + source.finishMs - Date.now())).unref());
  }
  if (held.length > 0) res.write(held.join(''));
  res.end();
}
