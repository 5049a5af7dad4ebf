import { ApiError, pageTitle, ProtocolError, type ApiErrorBody } from '../errors.js';
import { blockedByIntermediary, whoAnswered, type CallDescription } from '../egress/answer-origin.js';
import { observationOfAnswer, targetOf } from '../egress/control-evidence.js';
import { controlLine, recognizeControl } from '../egress/controls.js';
import type { ApiAnswer } from './client.js';
import { isRecord, type ResponseObject } from './response.js';

/*
 * Turning one HTTP answer into a Response object, or into the error a user can act on:
 * the client (client.ts) sends, this module reads what came back.
 */

/** undici's header object with lower-case names and one string per header. */
export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * Reads a body up to a cap, so a runaway answer cannot exhaust memory; a declared
 * content-length over the cap is refused before a byte of the body is read. When the length
 * is declared, the bytes go straight into one buffer: no list of chunks plus a joined copy,
 * which for a 20 MB answer is the difference between one copy and two.
 */
export async function readCapped(
  body: AsyncIterable<Buffer> & { destroy?: () => void },
  capBytes: number,
  answered: string,
  contentLength: string | undefined,
): Promise<string> {
  const tooLarge = () => {
    body.destroy?.();
    return new ProtocolError(`${answered} with a body over ${capBytes} bytes (the --max-response-bytes cap); the API never sends that much, so something else answered`);
  };
  const declared = contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : undefined;
  if (declared !== undefined) {
    if (declared > capBytes) throw tooLarge();
    const whole = Buffer.allocUnsafe(declared);
    let size = 0;
    for await (const chunk of body) {
      // undici enforces Content-Length; this only keeps the copy below in bounds.
      if (size + chunk.length > declared) throw tooLarge();
      chunk.copy(whole, size);
      size += chunk.length;
    }
    return whole.toString('utf8', 0, size);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > capBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Turns a status and a body into an answer, or into the error a user can act on. */
export function interpret(what: string, call: CallDescription, status: number, headers: Record<string, string>, text: string): ApiAnswer {
  const contentType = headers['content-type'];
  const requestId = headers['x-request-id'];
  if (status < 200 || status >= 300) {
    const origin = whoAnswered(status, headers, text);
    const control = recognizeControl(observationOfAnswer(call.method, status, headers, text.slice(0, 4096), origin.by), targetOf(call.host));
    throw new ApiError({
      method: call.method,
      path: call.path,
      status,
      requestId,
      apiError: parseEnvelope(text),
      contentType,
      bodySnippet: text.slice(0, 2048),
      headers,
      answeredBy: origin.by,
      // A refusal (4xx) from something in between gets the one-line egress diagnosis instead;
      // a gateway's 5xx keeps the usual message, which already says it is not the API's.
      diagnosis: origin.by === 'intermediary' && status >= 400 && status < 500 ? blockedByIntermediary(call, status, origin.evidence) + (control ? `; ${controlLine(control)}` : '') : undefined,
      control,
    });
  }
  if (text.length === 0) throw new ProtocolError(`${what} answered HTTP ${status} with an empty body; the API always sends a JSON Response, so something else answered`);
  if (!contentType || !/\bjson\b/i.test(contentType)) {
    const title = pageTitle(text);
    throw new ProtocolError(
      `${what} answered HTTP ${status} with content type ${contentType ?? '(none)'}${title ? ` (page title ${JSON.stringify(title)})` : ''}, not JSON; it did not come from the API: check --base-url and any proxy`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`${what} answered HTTP ${status} with invalid JSON (${(error as Error).message}); the API always sends valid JSON`, { cause: error });
  }
  if (!isRecord(parsed) || typeof parsed['id'] !== 'string') {
    throw new ProtocolError(`${what} answered HTTP ${status} with JSON that is not a Response object (no string "id")`);
  }
  return { response: parsed as ResponseObject, status, requestId, headers };
}

/** The OpenAI error envelope `{ error: { message, type, param, code } }`, when the body is one. */
export function parseEnvelope(text: string): ApiErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || !isRecord(parsed['error'])) return undefined;
  const e = parsed['error'];
  if (typeof e['message'] !== 'string') return undefined;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return { message: e['message'], type: str(e['type']), param: str(e['param']), code: str(e['code']) };
}
