import { ApiError, ProtocolError } from '../errors.js';
import { answerWords, baseUrlAdvice, isHtml, notFromApi, whoAnswered, type AnswerOrigin, type CallDescription } from '../egress/answer-origin.js';
import { observationOfAnswer, targetOf } from '../egress/control-evidence.js';
import { controlLine, recognizeControl } from '../egress/controls.js';
import type { ApiAnswer } from './client.js';
import { parseEnvelope } from './error-envelope.js';
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

/**
 * A 2xx answer that is not the API's Response: a web page (a captive portal), not JSON, or
 * JSON without a Response's id. It names who answered, so check can give its verdict and a
 * run can say the create reached something else.
 */
export class NotApiAnswerError extends ProtocolError {
  override name = 'NotApiAnswerError';
  readonly status: number;
  readonly origin: AnswerOrigin;
  readonly words: string;
  readonly html: boolean;
  constructor(message: string, status: number, origin: AnswerOrigin, words: string, html: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.origin = origin;
    this.words = words;
    this.html = html;
  }
}

/**
 * The API's own 404 for a response id it does not know (wrong id, another project, expired):
 * nothing to resume. A 404 from something else, or the API's "Invalid URL", says nothing about the id.
 */
export function isUnknownResponse(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.details.answeredBy === 'api' && !isInvalidUrl(error);
}

/** The API's 404 for a path it does not serve: the base URL is wrong, not the id. */
export function isInvalidUrl(error: ApiError): boolean {
  return saysInvalidUrl(error.status, error.details.answeredBy, error.details.apiError?.message);
}

/** The rule itself, read from an answer before (interpret) or after (isInvalidUrl) it became an ApiError. */
function saysInvalidUrl(status: number, answeredBy: AnswerOrigin['by'] | undefined, message: string | undefined): boolean {
  return status === 404 && answeredBy === 'api' && /^Invalid URL\b/i.test(message ?? '');
}

/**
 * Turns a status and a body into an answer, or into the error a user can act on. `proxied`:
 * a proxy is configured, so an answer without the API's marks is the proxy's.
 */
export function interpret(what: string, call: CallDescription, status: number, headers: Record<string, string>, text: string, proxied = false): ApiAnswer {
  const contentType = headers['content-type'];
  const requestId = headers['x-request-id'];
  const origin = whoAnswered(status, headers, text, proxied);
  const html = isHtml(contentType?.split(';')[0]?.trim().toLowerCase(), text);
  if (status < 200 || status >= 300) {
    const apiError = parseEnvelope(text);
    const words = answerWords(text, contentType);
    let diagnosis: string | undefined;
    // A redirect keeps its own message (where it points); every other answer not from the API gets its origin's diagnosis.
    if (origin.by !== 'api' && (status < 300 || status >= 400)) diagnosis = notFromApi(call, status, origin, words, html, headers);
    else if (saysInvalidUrl(status, origin.by, apiError?.message)) {
      diagnosis = `${what} failed: HTTP 404 from the API: ${words}; ${baseUrlAdvice(call)}`;
    }
    // A known egress control named from its own marks adds its name and fix to the diagnosis.
    const control = origin.by === 'api' ? undefined : recognizeControl(observationOfAnswer(call.method, status, headers, text.slice(0, 4096), origin.by), targetOf(call.host));
    if (control && diagnosis !== undefined) diagnosis += `; ${controlLine(control)}`;
    throw new ApiError({
      method: call.method,
      path: call.path,
      status,
      requestId,
      apiError,
      contentType,
      bodySnippet: text.slice(0, 2048),
      headers,
      answeredBy: origin.by,
      words,
      diagnosis,
      control,
    });
  }
  const notApi = (why: string) => {
    const words = answerWords(text, contentType);
    if (html) return new NotApiAnswerError(notFromApi(call, status, origin.by === 'api' ? { by: 'other', evidence: origin.evidence } : origin, words, true), status, origin, words, true);
    // Once the API itself answered on this base URL, the base URL is right: what answers in its place stands in between.
    const advice = call.apiAnswered === undefined ? baseUrlAdvice(call) : `the API itself answered ${call.apiAnswered} on this base URL, so something between this machine and the API answers ${call.method} ${call.route} in its place`;
    return new NotApiAnswerError(`${what} answered HTTP ${status} with ${why}; it did not come from the API (${origin.by === 'api' ? origin.evidence : `no API marks: ${origin.evidence}`}): "${words}"; ${advice}`, status, origin, words, false);
  };
  if (text.length === 0) throw notApi('an empty body, where the API always sends a JSON Response');
  if (html || !contentType || !/\bjson\b/i.test(contentType)) throw notApi(`content type ${contentType ?? '(none)'}, not JSON`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`${what} answered HTTP ${status} with invalid JSON (${(error as Error).message}); the API always sends valid JSON`, { cause: error });
  }
  if (!isRecord(parsed) || typeof parsed['id'] !== 'string') {
    throw notApi('JSON that is not a Response object (no string "id")');
  }
  return { response: parsed as ResponseObject, status, requestId, headers };
}
