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
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  408, // Request Timeout: the server gave up waiting for us
  409, // Conflict: the API uses it for transient lock contention
  429, // Too Many Requests: rate limited (but see QUOTA_ERRORS)
  500, // Internal Server Error
  502, // Bad Gateway: an edge proxy lost the backend
  503, // Service Unavailable: overloaded
  504, // Gateway Timeout
]);

/** The only statuses after which a create is sent again: the server refused the work, so no job exists. */
export const CREATE_RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  429, // rate limited before anything was started
  503, // overloaded, refused before anything was started
]);

/** 429s that need a human (billing), not a wait: the `type` or `code` of the API's error. */
export const QUOTA_ERRORS: ReadonlySet<string> = new Set(['insufficient_quota', 'credit_balance_exhausted']);

/** Network failures that say nothing reached the server, and that may pass on their own. */
const UNDELIVERED_TRANSIENT_STAGES: ReadonlySet<string> = new Set(['connect']);
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
    if (call === 'create') return CREATE_RETRYABLE_STATUSES.has(error.status);
    return override === 'true' || RETRYABLE_STATUSES.has(error.status);
  }
  if (error instanceof NetworkError) {
    const transientDns = TRANSIENT_DNS_CODES.has(rootCoded(error.cause).code ?? '');
    if (call === 'create') return !error.maybeDelivered && (UNDELIVERED_TRANSIENT_STAGES.has(error.stage) || transientDns);
    return transientDns || !PERMANENT_STAGES.has(error.stage);
  }
  return false;
}

/**
 * Whether a create that failed this way may still have started a job: the request may have
 * reached the API (a reset or timeout after sending, a gateway error) or an answer came that
 * was not the API's. A 4xx, a 429/503 refusal or an undelivered request started nothing.
 */
export function createMayHaveStarted(error: unknown): boolean {
  if (error instanceof NetworkError) return error.maybeDelivered;
  if (error instanceof ApiError) return error.status === 408 || (error.status >= 500 && error.status !== 503);
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
