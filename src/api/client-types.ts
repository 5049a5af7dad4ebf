import type { Dispatcher } from 'undici';
import type { FailureDiagnosis } from '../egress/tunnel-watch.js';
import type { Exchange } from './exchange.js';
import type { ResponseObject } from './response.js';
import type { StreamEvent } from './sse.js';

/*
 * What a ResponsesClient is built from, what one call is given, and what it hands back
 * (src/api/client.ts re-exports the answers: the rest of the program imports them from there).
 */

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
      /** From the answering attempt's request to its headers: a retried call's failed attempts and pauses are not in it. */
      readonly answeredAfterMs: number;
      /** Ends with the stream; throws a NetworkError when it drops, a ProtocolError for a frame it cannot read. */
      readonly events: AsyncIterable<StreamEvent>;
      /** Closes the connection at once (the stream's events then end). */
      close(): void;
    }
  | { readonly kind: 'json'; readonly answer: ApiAnswer };

export interface SendOptions {
  /** The query string of a streamed retrieve (`?stream=true&starting_after=N`): same method and path. */
  readonly query?: string;
  readonly responseId?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Ends the request at once when aborted (a deadline or an interrupt); the signal's reason is thrown. */
  readonly signal?: AbortSignal | undefined;
}
