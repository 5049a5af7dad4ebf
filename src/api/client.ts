import { ApiError, BgprobeError, type NetworkError } from '../errors.js';
import { monotonicMs } from '../monotonic.js';
import { endpoint, endpointPath, type Endpoint, type EndpointName } from './endpoints.js';
import { flattenHeaders, interpret, readCapped } from './answer.js';
import { toNetworkError } from './transport-errors.js';
import { withControl } from '../egress/control-evidence.js';
import { whoAnswered, type CallDescription } from '../egress/answer-origin.js';
import type { Dispatcher } from 'undici';
import type { ApiAnswer, ClientOptions, SendOptions, StreamAnswer } from './client-types.js';
import { exchangeOf, type ExchangeSeen } from './exchange.js';
import { requestHeaders, requestOptions, watchWritten } from './request.js';
import { ConnectionPool } from './pool.js';
import { readEvents } from './event-stream.js';

export type { ApiAnswer, StreamAnswer } from './client-types.js';
export type { Exchange } from './exchange.js';

/**
 * The only code that talks HTTP to the API: the three calls of the endpoint table over one
 * undici pool, JSON in and out, no redirects, a hard deadline on every request.
 */
export class ResponsesClient {
  readonly #options: ClientOptions;
  readonly #pool: ConnectionPool;
  /** The first call the API itself answered (its marks): an unmarked answer after it came from something in between. */
  #apiAnswered: string | undefined;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#pool = new ConnectionPool(options.createDispatcher, options.timeoutMs);
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
    const closing = this.#pool.close();
    this.#options.diagnosis?.dispose();
    await closing;
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

  /** A failure before any answer: what it was (sent or not, by `written`), explained by what the proxy did, and the control it names. */
  #unanswered(error: unknown, call: CallDescription, what: string, written: boolean): NetworkError {
    const bare = toNetworkError(error, what, this.#options.baseUrl.host, written);
    const diagnosis = this.#options.diagnosis;
    return withControl(diagnosis?.explain(bare, call) ?? bare, call, diagnosis?.observations, diagnosis ? 'http' : 'none', this.#options.timeoutMs);
  }

  /** Tells `onExchange` about one request, answered or not, the moment it ends; the key masked. */
  #record(seen: ExchangeSeen, failure: string | undefined): void {
    this.#options.onExchange?.(exchangeOf(seen, failure));
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
    const sentHeaders = requestHeaders(this.#options, options);
    const stop = options.signal;
    // Whether undici wrote the whole request: before that, nothing can have reached the server.
    let written = false;
    try {
      const dispatcher = await this.#pool.get();
      const answer = await this.#pool.withDeadline(dispatcher, what, stop, async (signal) => {
        const res = await watchWritten(dispatcher, () => (written = true)).request(requestOptions(this.#options, ep.method, path, sentHeaders, options, signal));
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
      this.#record({ startedAt, started, call, status, responseHeaders, requestHeaders: sentHeaders }, failure);
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
    const sentHeaders = { ...requestHeaders(this.#options, options), accept: 'text/event-stream' };
    let status: number | undefined;
    let responseHeaders: Record<string, string> = {};
    const record = (failure: string | undefined) => this.#record({ startedAt, started, call, status, responseHeaders, requestHeaders: sentHeaders }, failure);
    let res: Dispatcher.ResponseData;
    // Whether undici wrote the whole request: before that, nothing can have reached the server (as in #send).
    let written = false;
    try {
      const dispatcher = await this.#pool.get();
      res = await this.#pool.withDeadline(dispatcher, what, options.signal, (signal) =>
        watchWritten(dispatcher, () => (written = true)).request(requestOptions(this.#options, ep.method, path, sentHeaders, options, signal)),
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
    return { kind: 'stream', status, requestId: responseHeaders['x-request-id'], headers: responseHeaders, answeredAfterMs: monotonicMs() - started, events: readEvents(body, maxResponseBytes, what, baseUrl.host, record), close: () => body.destroy() };
  }
}
