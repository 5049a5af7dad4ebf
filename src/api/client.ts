import type { Dispatcher } from 'undici';
import { ApiError, BgprobeError, NetworkError, ProtocolError, SetupError } from '../errors.js';
import { maskSecret } from '../redact.js';
import { monotonicMs } from '../monotonic.js';
import { USER_AGENT } from '../version.js';
import { endpoint, endpointPath, type Endpoint, type EndpointName } from './endpoints.js';
import { innerTimeout } from './dispatcher.js';
import type { ResponseObject } from './response.js';
import { flattenHeaders, interpret, readCapped } from './answer.js';
import { toNetworkError } from './transport-errors.js';
import { withControl } from '../egress/control-evidence.js';
import { readStreamEvent, SseParser, type StreamEvent } from './sse.js';
import { whoAnswered, type CallDescription } from '../egress/answer-origin.js';
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

interface ClientOptions {
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
  /** A proxy is configured: an answer without the API's marks is then the proxy's (src/egress/answer-origin.ts). */
  readonly proxied?: boolean | undefined;
  /** The configured proxy's URL carries credentials (a proxy's 407 then means they were rejected). */
  readonly proxyCredentials?: boolean | undefined;
  /** An HTTP(S) proxy (not SOCKS) carries the calls: only then can a 407 be the configured proxy's. */
  readonly httpProxy?: boolean | undefined;
  /** Told about every request, answered or not, the moment it ends. */
  readonly onExchange?: (exchange: Exchange) => void;
}

export interface ApiAnswer {
  readonly response: ResponseObject;
  readonly status: number;
  readonly requestId: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * What a streaming call opened: the events as they arrive, or a plain Response object when the
 * server ignored `stream` (something with the same API that does not stream).
 */
export type StreamAnswer =
  | {
      readonly kind: 'stream';
      readonly status: number;
      readonly requestId: string | undefined;
      readonly headers: Readonly<Record<string, string>>;
      /** Ends with the stream; throws a NetworkError when it drops, a ProtocolError for a frame it cannot read. */
      readonly events: AsyncIterable<StreamEvent>;
      /** Closes the connection at once (the stream's events then end). */
      close(): void;
    }
  | { readonly kind: 'json'; readonly answer: ApiAnswer };

interface SendOptions {
  /** The query string of a streamed retrieve (`?stream=true&starting_after=N`): same method and path. */
  readonly query?: string;
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
  /** The first call the API itself answered (its marks): an unmarked answer after it came from something in between. */
  #apiAnswered: string | undefined;

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

  /**
   * POST /responses with `stream: true` in the body: the answer is the event stream. The stop
   * signal only ends the wait for the answer's headers; the caller closes the stream itself.
   */
  openCreateStream(body: unknown, idempotencyKey?: string, signal?: AbortSignal): Promise<StreamAnswer> {
    const headers: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return this.#openStream('create', { body, headers, signal });
  }

  /** GET /responses/{id}?stream=true[&starting_after=N]: the retrieve call, read as events (resume after a drop). */
  openRetrieveStream(responseId: string, startingAfter: number | undefined, signal?: AbortSignal): Promise<StreamAnswer> {
    const query = startingAfter === undefined ? '?stream=true' : `?stream=true&starting_after=${startingAfter}`;
    return this.#openStream('retrieve', { responseId, query, signal });
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

  /** The endpoint, its path (with the stream query, if any) and the names a diagnosis uses for it. */
  #describe(name: EndpointName, options: SendOptions): { ep: Endpoint; path: string; what: string; call: CallDescription } {
    const { baseUrl, proxyCredentials, httpProxy } = this.#options;
    const ep = endpoint(name);
    const path = endpointPath(baseUrl, ep, options.responseId) + (options.query ?? '');
    const call: CallDescription = { name, method: ep.method, path, route: endpointPath(baseUrl, ep), host: baseUrl.host, baseUrl: baseUrl.href, proxyCredentials, httpProxy, apiAnswered: this.#apiAnswered };
    return { ep, path, what: `${ep.method} ${path}`, call };
  }

  /** Remembers that the API itself answered this call, so later diagnoses know the base URL leads to it. */
  #noteOrigin(call: CallDescription, status: number, headers: Readonly<Record<string, string>>, text: string): void {
    if (this.#apiAnswered === undefined && whoAnswered(status, headers, text, this.#options.proxied === true).by === 'api') this.#apiAnswered = call.name;
  }

  /** undici's request options: both clocks of --timeout inside the hard deadline. */
  #requestOptions(method: string, path: string, headers: Record<string, string>, options: SendOptions, signal: AbortSignal): Dispatcher.RequestOptions {
    const { baseUrl, timeoutMs } = this.#options;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    return { origin: baseUrl.origin, path, method: method as Dispatcher.HttpMethod, headers, body, signal, headersTimeout: innerTimeout(timeoutMs), bodyTimeout: innerTimeout(timeoutMs) };
  }

  /** A failure before any answer: what it was (sent or not, by `written`), explained by what the proxy did, and the control it names. */
  #unanswered(error: unknown, call: CallDescription, what: string, written: boolean): NetworkError {
    const bare = toNetworkError(error, what, this.#options.baseUrl.host, written);
    const diagnosis = this.#options.diagnosis;
    return withControl(diagnosis?.explain(bare, call) ?? bare, call, diagnosis?.observations, diagnosis ? 'http' : 'none', this.#options.timeoutMs);
  }

  /** Tells `onExchange` about one request, answered or not, the moment it ends; the key masked. */
  #record(
    seen: { startedAt: Date; started: number; call: CallDescription; status: number | undefined; responseHeaders: Record<string, string>; requestHeaders: Record<string, string> },
    failure: string | undefined,
  ): void {
    const { startedAt, started, call, status, responseHeaders, requestHeaders } = seen;
    this.#options.onExchange?.({
      startedAt,
      endpoint: call.name as EndpointName,
      method: call.method,
      path: call.path,
      status,
      durationMs: monotonicMs() - started,
      requestId: responseHeaders['x-request-id'],
      error: failure,
      responseHeaders,
      requestHeaders: maskedHeaders(requestHeaders),
    });
  }

  async #send(name: EndpointName, options: SendOptions): Promise<ApiAnswer> {
    // Nothing is sent once the run is ending; the reason (a deadline, an interrupt) propagates.
    if (options.signal?.aborted) throw options.signal.reason;
    const { baseUrl } = this.#options;
    const { ep, path, what, call } = this.#describe(name, options);
    const startedAt = new Date();
    const started = monotonicMs();
    let status: number | undefined;
    let responseHeaders: Record<string, string> = {};
    let failure: string | undefined;
    const requestHeaders = this.#headers(options);
    const stop = options.signal;
    // Whether undici wrote the whole request: before that, nothing can have reached the server.
    let written = false;
    try {
      const dispatcher = await this.#pool();
      const answer = await this.#withDeadline(dispatcher, what, stop, async (signal) => {
        const res = await watchWritten(dispatcher, () => (written = true)).request(this.#requestOptions(ep.method, path, requestHeaders, options, signal));
        status = res.statusCode;
        responseHeaders = flattenHeaders(res.headers);
        const text = await readCapped(res.body, this.#options.maxResponseBytes, `${what} answered HTTP ${res.statusCode}`, responseHeaders['content-length']);
        return { statusCode: res.statusCode, text };
      });
      this.#noteOrigin(call, answer.statusCode, responseHeaders, answer.text);
      return interpret(what, call, answer.statusCode, responseHeaders, answer.text, this.#options.proxied === true);
    } catch (error) {
      if (stop?.aborted && error === stop.reason) {
        failure = `not awaited: ${error instanceof Error ? error.message : 'the run was stopped'}`;
        throw error;
      }
      if (status === undefined) {
        const networkError = this.#unanswered(error, call, what, written);
        failure = networkError.message;
        throw networkError;
      }
      if (error instanceof ApiError || error instanceof BgprobeError) {
        if (!(error instanceof ApiError)) failure = error.message;
        throw error;
      }
      // The status line came but the body was cut off (a reset, a close, a timeout): the
      // request was delivered and acted on, so this is never "nothing was sent".
      const cut = toNetworkError(error, `${what} answered HTTP ${status} but its body was cut off`, baseUrl.host, true);
      failure = cut.message;
      throw cut;
    } finally {
      this.#record({ startedAt, started, call, status, responseHeaders, requestHeaders }, failure);
    }
  }

  /**
   * One streaming request: under the hard deadline until its headers arrive, then read as
   * server-sent events with undici's idle timeout (--timeout) between chunks and no deadline on
   * the whole: a stream lasts as long as the response runs. Its exchange is recorded when it ends.
   */
  async #openStream(name: EndpointName, options: SendOptions): Promise<StreamAnswer> {
    if (options.signal?.aborted) throw options.signal.reason;
    const { baseUrl, maxResponseBytes } = this.#options;
    const { ep, path, what, call } = this.#describe(name, options);
    const startedAt = new Date();
    const started = monotonicMs();
    const requestHeaders = { ...this.#headers(options), accept: 'text/event-stream' };
    let status: number | undefined;
    let responseHeaders: Record<string, string> = {};
    const record = (failure: string | undefined) => this.#record({ startedAt, started, call, status, responseHeaders, requestHeaders }, failure);
    let res: Dispatcher.ResponseData;
    // Whether undici wrote the whole request: before that, nothing can have reached the server (as in #send).
    let written = false;
    try {
      const dispatcher = await this.#pool();
      res = await this.#withDeadline(dispatcher, what, options.signal, (signal) =>
        watchWritten(dispatcher, () => (written = true)).request(this.#requestOptions(ep.method, path, requestHeaders, options, signal)),
      );
      status = res.statusCode;
      responseHeaders = flattenHeaders(res.headers);
    } catch (error) {
      if (options.signal?.aborted && error === options.signal.reason) {
        record(`not awaited: ${error instanceof Error ? error.message : 'the run was stopped'}`);
        throw error;
      }
      const networkError = this.#unanswered(error, call, what, written);
      record(networkError.message);
      throw networkError;
    }
    const body = res.body;
    if (status !== 200 || !/^text\/event-stream\b/i.test(responseHeaders['content-type'] ?? '')) {
      // An error envelope, a page from something in between, or a server that does not stream.
      try {
        const text = await readCapped(body, maxResponseBytes, `${what} answered HTTP ${status}`, responseHeaders['content-length']);
        this.#noteOrigin(call, status, responseHeaders, text);
        const answer = interpret(what, call, status, responseHeaders, text, this.#options.proxied === true);
        record(undefined);
        return { kind: 'json', answer };
      } catch (error) {
        record(error instanceof ApiError ? undefined : error instanceof Error ? error.message : String(error));
        throw error;
      }
    }
    this.#noteOrigin(call, status, responseHeaders, '');
    const host = baseUrl.host;
    async function* events(): AsyncGenerator<StreamEvent> {
      const parser = new SseParser(maxResponseBytes);
      let failure: string | undefined;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          for (const frame of parser.push(chunk)) {
            const event = readStreamEvent(frame);
            if (event) yield event;
          }
        }
        for (const frame of parser.end()) {
          const event = readStreamEvent(frame);
          if (event) yield event;
        }
      } catch (error) {
        const thrown = error instanceof ProtocolError ? error : toNetworkError(error, `${what} (reading its event stream)`, host, true);
        failure = thrown.message;
        throw thrown;
      } finally {
        body.destroy();
        record(failure);
      }
    }
    return { kind: 'stream', status, requestId: responseHeaders['x-request-id'], headers: responseHeaders, events: events(), close: () => body.destroy() };
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

/**
 * The dispatcher as `request` sees it, with its handler told when undici has written the whole
 * request (undici calls `onRequestSent` right after writing headers and body to the socket).
 * An error before that moment (DNS, TCP, the proxy's CONNECT, TLS, a failed write) delivered
 * nothing; one after it may have reached the server.
 */
function watchWritten(dispatcher: Dispatcher, onWritten: () => void): Dispatcher {
  const dispatch = (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean => {
    const tracked = new Proxy(handler, {
      get(target, key) {
        if (key === 'onRequestSent') {
          return () => {
            onWritten();
            return (target as { onRequestSent?: () => void }).onRequestSent?.();
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return dispatcher.dispatch(opts, tracked);
  };
  return Object.create(dispatcher, { dispatch: { value: dispatch } }) as Dispatcher;
}

/** The request headers as they may be shown: the bearer key masked here, before anything can print it. */
function maskedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const shown = { ...headers };
  const authorization = shown['authorization'];
  if (authorization !== undefined) shown['authorization'] = authorization.replace(/^(Bearer\s+)(.*)$/i, (_, scheme: string, key: string) => scheme + maskSecret(key));
  return shown;
}

/** What an API key may contain: visible ASCII, as an HTTP header needs, but no quote marks or backslashes (a paste or .env slip). */
const HEADER_SAFE = /^[\x21\x23-\x26\x28-\x5b\x5d-\x5f\x61-\x7e]+$/;
