import type { Dispatcher } from 'undici';
import { ApiError, NetworkError, pageTitle, ProtocolError, SetupError, type ApiErrorBody } from '../errors.js';
import { maskSecret } from '../redact.js';
import { monotonicMs } from '../monotonic.js';
import { USER_AGENT } from '../version.js';
import { endpoint, endpointPath, type EndpointName } from './endpoints.js';
import { innerTimeout } from './dispatcher.js';
import { isRecord, type ResponseObject } from './response.js';
import { toNetworkError } from './transport-errors.js';
import { blockedByIntermediary, whoAnswered, type CallDescription } from '../egress/answer-origin.js';
import type { FailureDiagnosis } from '../egress/tunnel-watch.js';

/** One HTTP request as the report's Outbound Requests table shows it. */
export interface Exchange {
  readonly startedAt: Date;
  readonly endpoint: EndpointName;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly durationMs: number;
  readonly requestId: string | undefined;
  /** Set when no HTTP answer arrived. */
  readonly error: string | undefined;
  /** Every header of the answer (lower-case names), for diagnosis. */
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** The headers sent, with Authorization masked (`Bearer sk-...abcd`), for --verbose. */
  readonly requestHeaders?: Readonly<Record<string, string>>;
}

export interface ClientOptions {
  readonly baseUrl: URL;
  readonly apiKey: string | undefined;
  readonly organization?: string | undefined;
  readonly project?: string | undefined;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Builds the connection pool; called again after a hard timeout destroyed the last one. */
  readonly createDispatcher: () => Promise<Dispatcher>;
  /** Names the cause of a network failure from what the proxy did (see src/egress/tunnel-watch.ts). */
  readonly diagnosis?: FailureDiagnosis | undefined;
  /** Told about every request, answered or not, the moment it ends. */
  readonly onExchange?: (exchange: Exchange) => void;
}

export interface ApiAnswer {
  readonly response: ResponseObject;
  readonly status: number;
  readonly requestId: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

interface SendOptions {
  readonly responseId?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Ends the request at once when aborted (a deadline or an interrupt); the signal's reason is thrown. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The only code that talks HTTP to the API: the three calls of the endpoint table over one
 * undici pool, JSON in and out, no redirects, a hard deadline on every request.
 */
export class ResponsesClient {
  readonly #options: ClientOptions;
  #dispatcher: Promise<Dispatcher> | undefined;

  constructor(options: ClientOptions) {
    this.#options = options;
  }

  /** POST /responses. The idempotency key lets a retried create be recognised by the server. */
  create(body: unknown, idempotencyKey?: string, signal?: AbortSignal): Promise<ApiAnswer> {
    const headers: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return this.#send('create', { body, headers, signal });
  }

  retrieve(responseId: string, signal?: AbortSignal): Promise<ApiAnswer> {
    return this.#send('retrieve', { responseId, signal });
  }

  cancel(responseId: string, signal?: AbortSignal): Promise<ApiAnswer> {
    return this.#send('cancel', { responseId, signal });
  }

  /** Closes the pool; waits for nothing that is still running. */
  async close(): Promise<void> {
    const pending = this.#dispatcher;
    this.#dispatcher = undefined;
    this.#options.diagnosis?.dispose();
    if (pending) await (await pending).destroy().catch(() => {});
  }

  #pool(): Promise<Dispatcher> {
    this.#dispatcher ??= this.#options.createDispatcher();
    return this.#dispatcher;
  }

  async #send(name: EndpointName, options: SendOptions): Promise<ApiAnswer> {
    // Nothing is sent once the run is ending; the reason (a deadline, an interrupt) propagates.
    if (options.signal?.aborted) throw options.signal.reason;
    const ep = endpoint(name);
    const { baseUrl, timeoutMs } = this.#options;
    const path = endpointPath(baseUrl, ep, options.responseId);
    const what = `${ep.method} ${path}`;
    const call: CallDescription = { name, method: ep.method, path, route: endpointPath(baseUrl, ep), host: baseUrl.host };
    const startedAt = new Date();
    const started = monotonicMs();
    let status: number | undefined;
    let requestId: string | undefined;
    let responseHeaders: Record<string, string> = {};
    let failure: string | undefined;
    const requestHeaders = this.#headers(options);
    const stop = options.signal;
    try {
      const dispatcher = await this.#pool();
      const answer = await this.#withDeadline(dispatcher, what, stop, async (signal) => {
        const res = await dispatcher.request({
          origin: baseUrl.origin,
          path,
          method: ep.method,
          headers: requestHeaders,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal,
          headersTimeout: innerTimeout(timeoutMs),
          bodyTimeout: innerTimeout(timeoutMs),
        });
        status = res.statusCode;
        responseHeaders = flattenHeaders(res.headers);
        requestId = responseHeaders['x-request-id'];
        const text = await readCapped(res.body, this.#options.maxResponseBytes, `${what} answered HTTP ${res.statusCode}`, responseHeaders['content-length']);
        return { statusCode: res.statusCode, text };
      });
      return interpret(what, call, answer.statusCode, responseHeaders, answer.text);
    } catch (error) {
      if (stop?.aborted && error === stop.reason) {
        failure = `not awaited: ${error instanceof Error ? error.message : 'the run was stopped'}`;
        throw error;
      }
      if (status === undefined) {
        const bare = toNetworkError(error, what, baseUrl.host);
        const networkError = this.#options.diagnosis?.explain(bare, call) ?? bare;
        failure = networkError.message;
        throw networkError;
      }
      if (!(error instanceof ApiError)) failure = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      this.#options.onExchange?.({
        startedAt,
        endpoint: name,
        method: ep.method,
        path,
        status,
        durationMs: monotonicMs() - started,
        requestId,
        error: failure,
        responseHeaders,
        requestHeaders: maskedHeaders(requestHeaders),
      });
    }
  }

  /** The request headers; refuses, before anything is sent, a key that no HTTP header can carry. */
  #headers(options: SendOptions): Record<string, string> {
    const { apiKey, organization, project } = this.#options;
    if (apiKey !== undefined && !HEADER_SAFE.test(apiKey)) {
      // Never quote the key: say what is wrong with it instead.
      throw new SetupError(
        'OPENAI_API_KEY contains a space, a quote mark, a line break or a non-ASCII character, so it cannot be sent; copy the key again (in .env, quote it as OPENAI_API_KEY="sk-...")',
        'invalid_key',
      );
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': USER_AGENT,
      ...options.headers,
    };
    if (apiKey !== undefined) headers['authorization'] = `Bearer ${apiKey}`;
    if (organization) headers['openai-organization'] = organization;
    if (project) headers['openai-project'] = project;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return headers;
  }

  /**
   * Runs one request under a hard deadline. When it passes, the pool is destroyed: undici 7
   * can leave a request unsettled forever, even with an abort signal, when a proxy drops a
   * CONNECT without answering (nodejs/undici#3897); destroying the pool is the only way out.
   */
  async #withDeadline<T>(dispatcher: Dispatcher, what: string, stop: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { timeoutMs } = this.#options;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      onStop = () => {
        controller.abort(stop?.reason);
        reject(stop?.reason);
      };
      stop?.addEventListener('abort', onStop, { once: true });
    });
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new NetworkError(`${what}: no complete answer within ${timeoutMs / 1000} s (--timeout)`, 'timeout', true);
        controller.abort(error);
        if (this.#dispatcher) {
          this.#dispatcher = undefined;
          dispatcher.destroy(error).catch(() => {});
        }
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([work(controller.signal), deadline, stopped]);
    } finally {
      clearTimeout(timer);
      if (onStop) stop?.removeEventListener('abort', onStop);
    }
  }
}

/** The request headers as they may be shown: the bearer key masked here, before anything can print it. */
function maskedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const shown = { ...headers };
  const authorization = shown['authorization'];
  if (authorization !== undefined) shown['authorization'] = authorization.replace(/^(Bearer\s+)(.*)$/i, (_, scheme: string, key: string) => scheme + maskSecret(key));
  return shown;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** What an API key may contain: visible ASCII, as an HTTP header needs, but no quote marks or backslashes (a paste or .env slip). */
const HEADER_SAFE = /^[\x21\x23-\x26\x28-\x5b\x5d-\x5f\x61-\x7e]+$/;

/**
 * Reads a body up to a cap, so a runaway answer cannot exhaust memory; a declared
 * content-length over the cap is refused before a byte of the body is read. When the length
 * is declared, the bytes go straight into one buffer: no list of chunks plus a joined copy,
 * which for a 20 MB answer is the difference between one copy and two.
 */
async function readCapped(
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
function interpret(what: string, call: CallDescription, status: number, headers: Record<string, string>, text: string): ApiAnswer {
  const contentType = headers['content-type'];
  const requestId = headers['x-request-id'];
  if (status < 200 || status >= 300) {
    const origin = whoAnswered(status, headers, text);
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
      diagnosis: origin.by === 'intermediary' && status >= 400 && status < 500 ? blockedByIntermediary(call, status, origin.evidence) : undefined,
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
