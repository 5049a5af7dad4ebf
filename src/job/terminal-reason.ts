import { isPending, type ResponseObject } from '../api/response.js';
import { oneLine } from '../text.js';

/** A server's words, cut short: one line of stderr or JSON, not a page a hostile server chose. */
const MAX_REASON_CHARS = 500;

/**
 * Why a response ended without completing, in the API's own words: `server_error: The model
 * failed to generate a response.` from `error`, or `max_output_tokens` from
 * `incomplete_details.reason`; undefined when the response gives no reason (completed, cancelled).
 */
export function terminalReason(response: ResponseObject | undefined): string | undefined {
  if (!response) return undefined;
  const parts: string[] = [];
  const error = response.error;
  if (error && (error.code || error.message)) parts.push([error.code, error.message].filter(Boolean).join(': '));
  const reason = response.incomplete_details?.reason;
  if (reason) parts.push(reason);
  if (parts.length === 0) return undefined;
  const text = oneLine(parts.join('; '));
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}... (${text.length - MAX_REASON_CHARS} more characters)` : text;
}

/** `failed: server_error: The model failed ...`: the --json `error` of a run that ended on such a status. */
export function terminalReasonLine(response: ResponseObject | undefined): string | null {
  const status = response?.status;
  if (!status || isPending(status) || status === 'completed') return null;
  const reason = terminalReason(response);
  return reason === undefined ? null : `${oneLine(status)}: ${reason}`;
}
