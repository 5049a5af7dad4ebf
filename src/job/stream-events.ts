import { isRecord, type ResponseObject } from '../api/response.js';
import { streamErrorFields, type StreamEvent } from '../api/sse.js';
import { oneLine } from '../text.js';

/*
 * What each event of a Responses stream means to bgprobe: which ones end the response, which
 * carry the Response object, which are worth a line in the event log, and which it does not know.
 */

/** The events that end a response; each carries the final Response (responses-api-facts §3). */
const TERMINAL_EVENTS: ReadonlySet<string> = new Set(['response.completed', 'response.failed', 'response.incomplete']);

/** Event types bgprobe knows; any other is kept in the report's event log as unknown. */
const KNOWN_EVENTS: ReadonlySet<string> = new Set([
  'response.created',
  'response.queued',
  'response.in_progress',
  'response.completed',
  'response.failed',
  'response.incomplete',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
  'response.output_text.delta',
  'response.output_text.done',
  'response.output_text.annotation.added',
  'response.refusal.delta',
  'response.refusal.done',
  'response.reasoning_summary_part.added',
  'response.reasoning_summary_part.done',
  'response.reasoning_summary_text.delta',
  'response.reasoning_summary_text.done',
  'response.reasoning_text.delta',
  'response.reasoning_text.done',
  'response.function_call_arguments.delta',
  'response.function_call_arguments.done',
  'error',
]);

export function isTerminalEvent(event: StreamEvent): boolean {
  return TERMINAL_EVENTS.has(event.type);
}

/** The Response object an event carries (created, queued, in_progress, the terminal ones). */
export function eventResponse(event: StreamEvent): ResponseObject | undefined {
  const response = event.data['response'];
  return isRecord(response) && typeof response['id'] === 'string' ? (response as unknown as ResponseObject) : undefined;
}

/** The model's text in an output_text delta, if that is what the event is. */
export function textDelta(event: StreamEvent): string | undefined {
  const delta = event.data['delta'];
  return event.type === 'response.output_text.delta' && typeof delta === 'string' ? delta : undefined;
}

interface EventLine {
  readonly level: 'INFO' | 'WARN' | 'ERROR';
  readonly message: string;
  /** Only in the report (unknown types: kept, without filling the console). */
  readonly reportOnly?: boolean;
}

/**
 * The event-log line of an event, or undefined for the many that only add text (deltas, parts).
 * Everything from the server goes through oneLine: it is text from elsewhere.
 */
export function describeEvent(event: StreamEvent): EventLine | undefined {
  const at = `Stream event ${event.sequenceNumber ?? '?'}`;
  const type = oneLine(event.type);
  if (event.type === 'error') {
    const { code, message, type: kind } = streamErrorFields(event.data);
    return { level: 'ERROR', message: `${at}: error event: ${oneLine(code ?? kind ?? 'error')}: ${oneLine(message ?? '(no message)')}` };
  }
  if (event.type === 'response.queued' || event.type === 'response.in_progress') {
    return { level: 'INFO', message: `${at}: ${type} (status ${oneLine(String(eventResponse(event)?.status ?? '?'))})` };
  }
  if (event.skipped) {
    return { level: 'INFO', message: `${at}: ${type} (${(event.chars / 1e6).toFixed(1)} MB, not read: it repeats the text the deltas and the final Response carry)` };
  }
  if (event.type === 'response.output_item.added' || event.type === 'response.output_item.done') {
    const item = isRecord(event.data['item']) ? event.data['item'] : {};
    const index = event.data['output_index'];
    const status = typeof item['status'] === 'string' ? `, ${item['status']}` : '';
    const verb = event.type.endsWith('added') ? 'added' : 'done';
    return { level: 'INFO', message: `${at}: output item ${typeof index === 'number' ? index : '?'} ${verb} (${oneLine(String(item['type'] ?? '?'))}${oneLine(status)})` };
  }
  if (!KNOWN_EVENTS.has(event.type)) {
    return { level: 'INFO', message: `${at}: unknown event type ${JSON.stringify(type.slice(0, 80))} (kept here, not interpreted)`, reportOnly: true };
  }
  return undefined;
}
