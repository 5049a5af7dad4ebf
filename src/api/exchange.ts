import type { CallDescription } from '../egress/answer-origin.js';
import { monotonicMs } from '../monotonic.js';
import { maskSecret } from '../redact.js';
import type { EndpointName } from './endpoints.js';

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

/** What the client saw of one request by the time it ended. */
export interface ExchangeSeen {
  readonly startedAt: Date;
  /** monotonicMs() when the request started. */
  readonly started: number;
  readonly call: CallDescription;
  readonly status: number | undefined;
  readonly responseHeaders: Record<string, string>;
  readonly requestHeaders: Record<string, string>;
}

/** The Outbound Requests row of one request, answered or not, the key masked; `failure` when it failed. */
export function exchangeOf(seen: ExchangeSeen, failure: string | undefined): Exchange {
  const { startedAt, started, call, status, responseHeaders, requestHeaders } = seen;
  return {
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
  };
}

/** The request headers as they may be shown: the bearer key masked here, before anything can print it. */
function maskedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const shown = { ...headers };
  const authorization = shown['authorization'];
  if (authorization !== undefined) shown['authorization'] = authorization.replace(/^(Bearer\s+)(.*)$/i, (_, scheme: string, key: string) => scheme + maskSecret(key));
  return shown;
}
