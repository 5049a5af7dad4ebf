import { ApiError, NetworkError, ProtocolError } from '../errors.js';
import { isRetryable } from '../api/retry.js';
import { oneLine } from '../text.js';

/* What a break in an event stream means: worth resuming, a refusal to stream, or a hint to give. */

/** A refusal to stream: a 4xx other than 404 (unknown id), 408, 409 and 429, which are no refusal of streaming. */
export function isRefusal(error: unknown): boolean {
  return error instanceof ApiError && error.status >= 400 && error.status < 500 && ![401, 403, 404, 408, 409, 429].includes(error.status);
}

/** Whether the API itself answered the refusal: only then do its reasons (a passed resume window, no stream: true) apply. */
export function isApiRefusal(error: unknown): boolean {
  return error instanceof ApiError && error.details.answeredBy === 'api';
}

/** Who refused, as observed: the API, or an answer in its place (a proxy's block page, another server). */
export function refuser(error: unknown): string {
  return isApiRefusal(error) ? 'the API' : 'an answer that is not the API\'s';
}

/** A break worth resuming: a network drop or an unreadable frame is; an answer the retrieve would not retry is not. */
export function isResumable(error: unknown): boolean {
  if (error instanceof NetworkError) return isRetryable('retrieve', error);
  return error instanceof ProtocolError;
}

export function errorText(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error));
}

/** A create stream that timed out may have been held back by something that buffers streams: say so. */
export function withStreamHint(error: unknown): unknown {
  if (!(error instanceof NetworkError) || error.stage !== 'timeout') return error;
  const hinted = new NetworkError(`${error.message}; with --stream, a proxy that buffers server-sent events until the response ends looks exactly like this: try again without --stream`, error.stage, error.maybeDelivered, { cause: error });
  return hinted;
}

export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The stream went quiet past --timeout (undici's idle timeout between chunks): bgprobe's own limit, not the network's cut. */
export function isIdleTimeout(error: unknown): boolean {
  return error instanceof NetworkError && error.stage === 'timeout';
}
