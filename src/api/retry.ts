import { ApiError, NetworkError, ProtocolError } from '../errors.js';
import type { EndpointName } from './endpoints.js';
import { rootCoded } from './transport-errors.js';

/**
 * When a failed call is worth sending again, and how long to wait first. Pure data and pure
 * functions: the loop that uses them is `retrying-client.ts`. The rules follow openai-node
 * (retry 408/409/429/5xx, honour `retry-after-ms` / `Retry-After`, back off 0.5 s to 8 s with
 * jitter) except where they would lose money: a create is only resent when it provably
 * started nothing, and `Retry-After` is capped.
 */
export interface RetryPolicy {
  /** Retries per call after the first attempt (`--max-retries`). */
  readonly maxRetries: number;
  /** First backoff; doubles with every retry. */
  readonly baseDelayMs: number;
  /** Largest computed backoff. */
  readonly maxDelayMs: number;
  /** Largest wait a server's `Retry-After` can ask for; longer asks are shortened to this. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
});

/** HTTP statuses after which a poll or a cancel is sent again. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  408, // Request Timeout: the server gave up waiting for us
  409, // Conflict: the API uses it for transient lock contention
  429, // Too Many Requests: rate limited (but see QUOTA_ERRORS)
  500, // Internal Server Error
  502, // Bad Gateway: an edge proxy lost the backend
  503, // Service Unavailable: overloaded
  504, // Gateway Timeout
  // Cloudflare, which fronts the API, answers these itself when the origin fails it:
  520, // Web Server Returned an Unknown Error
  521, // Web Server Is Down
  522, // Connection Timed Out
  523, // Origin Is Unreachable
  524, // A Timeout Occurred
]);

/** Every 5xx is retried for a poll or a cancel (design.md), also ones not listed above. */
function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status) || (status >= 500 && status <= 599);
}

/**
 * The only statuses after which a create is sent again, and only when the API itself sent
 * them (its marks): the API refused the work, so no job exists. The same status from a
 * gateway may come after the request reached the API.
 */
const CREATE_RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  429, // rate limited before anything was started
  503, // overloaded, refused before anything was started
]);

/** 429s that need a human (billing), not a wait: the `type` or `code` of the API's error. */
const QUOTA_ERRORS: ReadonlySet<string> = new Set(['insufficient_quota', 'credit_balance_exhausted']);

/** Temporary DNS failure; ENOTFOUND is a wrong host name and never passes on its own. */
const TRANSIENT_DNS_CODES: ReadonlySet<string> = new Set(['EAI_AGAIN']);
/** Failures that waiting cannot fix: a wrong host name, a TLS trust problem, a proxy's refusal. */
const PERMANENT_STAGES: ReadonlySet<string> = new Set(['dns', 'tls', 'proxy']);

/** Whether a failed call may be sent again. */
export function isRetryable(call: EndpointName, error: unknown): boolean {
  if (error instanceof ApiError) {
    const override = error.details.headers['x-should-retry'];
    if (override === 'false') return false;
    if (error.status === 429 && isQuotaError(error)) return false;
    if (call === 'create') return CREATE_RETRYABLE_STATUSES.has(error.status) && error.details.answeredBy === 'api';
    return override === 'true' || isRetryableStatus(error.status);
  }
  if (error instanceof NetworkError) {
    const transientDns = TRANSIENT_DNS_CODES.has(rootCoded(error.cause).code ?? '');
    // A create that was never written is sent again exactly as any other call would be.
    if (call === 'create' && error.maybeDelivered) return false;
    return transientDns || !PERMANENT_STAGES.has(error.stage);
  }
  return false;
}

/**
 * Whether a POST that failed this way may still have acted at the API (a create started a job,
 * a cancel cancelled): the request was written and then a timeout, a reset or a cut-off body
 * followed, a 5xx, 408 or 429 came from something that is not the API (it may have passed the
 * request on first), or a 2xx came that was not the API's Response. A 4xx refusal, the API's
 * own 429/503, or a request that was never written did nothing.
 */
export function requestMayHaveActed(error: unknown): boolean {
  if (error instanceof NetworkError) return error.maybeDelivered;
  if (error instanceof ApiError) {
    if (error.status === 429 || error.status === 503) return error.details.answeredBy !== 'api';
    return error.status === 408 || error.status >= 500;
  }
  return error instanceof ProtocolError;
}

export function isQuotaError(error: ApiError): boolean {
  const e = error.details.apiError;
  return QUOTA_ERRORS.has(e?.type ?? '') || QUOTA_ERRORS.has(e?.code ?? '');
}

/**
 * The wait before retry number `retry` (1 for the first): the server's ask when it made one
 * (capped), else 0.5 s doubling to 8 s, times a jitter in [0.75, 1] so clients spread out.
 */
export function retryDelayMs(retry: number, error: unknown, policy: RetryPolicy, now: Date, random: () => number = Math.random): number {
  const asked = error instanceof ApiError ? retryAfterMs(error.details.headers, now) : undefined;
  if (asked !== undefined) return Math.min(asked, policy.maxRetryAfterMs);
  const backoff = Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs);
  return Math.round(backoff * (1 - 0.25 * random()));
}

/**
 * The wait a server asks for: `retry-after-ms` (milliseconds, openai-node's extension), else
 * `Retry-After` as seconds or as an HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Readonly<Record<string, string>>, now: Date): number | undefined {
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.round(Number(ms));
  const value = headers['retry-after']?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}
