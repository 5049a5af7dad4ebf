import type { Dispatcher } from 'undici';
import { ApiError, NetworkError, ProtocolError, type ApiErrorBody } from '../errors.js';
import { monotonicMs } from '../monotonic.js';
import { USER_AGENT } from '../version.js';
import { endpoint, endpointPath, type EndpointName } from './endpoints.js';
import { innerTimeout } from './dispatcher.js';
import { isRecord, type ResponseObject } from './response.js';
import { toNetworkError } from './transport-errors.js';

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
  create(body: unknown, idempotencyKey?: string): Promise<ApiAnswer> {
    const headers: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return this.#send('create', { body, headers });
  }

  retrieve(responseId: string): Promise<ApiAnswer> {
    return this.#send('retrieve', { responseId });
  }

  cancel(responseId: string): Promise<ApiAnswer> {
    return this.#send('cancel', { responseId });
  }

  /** Closes the pool; waits for nothing that is still running. */
  async close(): Promise<void> {
    const pending = this.#dispatcher;
    this.#dispatcher = undefined;
    if (pending) await (await pending).destroy().catch(() => {});
  }

  #pool(): Promise<Dispatcher> {
    this.#dispatcher ??= this.#options.createDispatcher();
    return this.#dispatcher;
  }

  async #send(name: EndpointName, options: SendOptions): Promise<ApiAnswer> {
    const ep = endpoint(name);
    const { baseUrl, timeoutMs } = this.#options;
    const path = endpointPath(baseUrl, ep, options.responseId);
    const what = `${ep.method} ${path}`;
    const startedAt = new Date();
    const started = monotonicMs();
    let status: number | undefined;
    let requestId: string | undefined;
    let responseHeaders: Record<string, string> = {};
    let failure: string | undefined;
    try {
      const dispatcher = await this.#pool();
      const answer = await this.#withDeadline(dispatcher, what, async (signal) => {
        const res = await dispatcher.request({
          origin: baseUrl.origin,
          path,
          method: ep.method,
          headers: this.#headers(options),
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal,
          headersTimeout: innerTimeout(timeoutMs),
          bodyTimeout: innerTimeout(timeoutMs),
        });
        status = res.statusCode;
        responseHeaders = flattenHeaders(res.headers);
        requestId = responseHeaders['x-request-id'];
        const text = await readCapped(res.body, this.#options.maxResponseBytes, what, responseHeaders['content-length']);
        return { statusCode: res.statusCode, text };
      });
      return interpret(what, ep.method, path, answer.statusCode, responseHeaders, answer.text);
    } catch (error) {
      if (status === undefined) {
        const networkError = toNetworkError(error, what, baseUrl.host);
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
      });
    }
  }

  #headers(options: SendOptions): Record<string, string> {
    const { apiKey, organization, project } = this.#options;
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
  async #withDeadline<T>(dispatcher: Dispatcher, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { timeoutMs } = this.#options;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
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
      return await Promise.race([work(controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * Reads a body up to a cap, so a runaway answer cannot exhaust memory. When the length is
 * declared, the bytes go straight into one buffer: no list of chunks plus a joined copy,
 * which for a 20 MB answer is the difference between one copy and two.
 */
async function readCapped(body: AsyncIterable<Buffer> & { destroy?: () => void }, capBytes: number, what: string, declaredLength?: string): Promise<string> {
  const tooLarge = () => {
    body.destroy?.();
    return new ProtocolError(`${what}: the answer is larger than ${capBytes} bytes (--max-response-bytes); the API never sends that much`);
  };
  const declared = declaredLength !== undefined && /^\d+$/.test(declaredLength) ? Number(declaredLength) : undefined;
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
function interpret(what: string, method: string, path: string, status: number, headers: Record<string, string>, text: string): ApiAnswer {
  const contentType = headers['content-type'];
  const requestId = headers['x-request-id'];
  if (status < 200 || status >= 300) {
    throw new ApiError({
      method,
      path,
      status,
      requestId,
      apiError: parseEnvelope(text),
      contentType,
      bodySnippet: text.slice(0, 300),
      headers,
    });
  }
  if (text.length === 0) throw new ProtocolError(`${what} answered HTTP ${status} with an empty body; the API always sends a JSON Response`);
  if (!contentType || !/\bjson\b/i.test(contentType)) {
    throw new ProtocolError(`${what} answered HTTP ${status} with content type ${contentType ?? '(none)'}, not JSON; it did not come from the API`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`${what} answered HTTP ${status} with invalid JSON (${(error as Error).message})`, { cause: error });
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
