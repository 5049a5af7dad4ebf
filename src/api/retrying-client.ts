import type { ApiAnswer, ResponsesClient, StreamAnswer } from './client.js';
import type { EndpointName } from './endpoints.js';
import { requestMayHaveActed, isRetryable, retryDelayMs, type RetryPolicy } from './retry.js';
import { retriesFor } from './refused-retry.js';

/** One retry about to happen, for the event log. */
export interface RetryNotice {
  readonly call: EndpointName;
  readonly what: string;
  /** 1 for the first retry. */
  readonly retry: number;
  readonly maxRetries: number;
  readonly delayMs: number;
  readonly error: unknown;
}

interface RetryingOptions {
  readonly policy: RetryPolicy;
  /** Waits, ending at once (rejecting with the signal's reason) when the signal aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now: () => Date;
  /** Told before each wait, so every retry is an event. */
  readonly onRetry?: (notice: RetryNotice) => void;
  readonly random?: () => number;
}

/**
 * The three calls with the retry policy applied. Each attempt is still one request of the
 * underlying client (so one row in Outbound Requests); the waits between them end at once
 * when the run's signal aborts.
 */
export class RetryingClient {
  readonly #client: ResponsesClient;
  readonly #options: RetryingOptions;

  constructor(client: ResponsesClient, options: RetryingOptions) {
    this.#client = client;
    this.#options = options;
  }

  /**
   * The create is resent only when it provably started nothing; the key lets the API spot a
   * repeat anyway. The signal ends the waits between attempts but never a create in flight:
   * cutting it would leave a job running whose id nobody learns.
   */
  create(body: unknown, idempotencyKey: string, signal?: AbortSignal): Promise<ApiAnswer> {
    return this.#withRetries('create', 'POST create', signal, () => this.#client.create(body, idempotencyKey));
  }

  retrieve(responseId: string, signal?: AbortSignal): Promise<ApiAnswer> {
    return this.#withRetries('retrieve', `GET ${responseId}`, signal, (s) => this.#client.retrieve(responseId, s));
  }

  /** Cancelling twice is harmless (the API answers the final object again), so cancel is retried like a poll. */
  cancel(responseId: string, signal?: AbortSignal): Promise<ApiAnswer> {
    return this.#withRetries('cancel', `POST cancel ${responseId}`, signal, (s) => this.#client.cancel(responseId, s));
  }

  /** The streamed create: opened under the create's rules (never resent once it may have arrived). */
  openCreateStream(body: unknown, idempotencyKey: string, signal?: AbortSignal): Promise<StreamAnswer> {
    return this.#withRetries('create', 'POST create (stream)', signal, () => this.#client.openCreateStream(body, idempotencyKey));
  }

  /** A streamed retrieve (attach, or resume after `startingAfter`): opened with the retrieve's retries. */
  openRetrieveStream(responseId: string, startingAfter: number | undefined, signal?: AbortSignal): Promise<StreamAnswer> {
    return this.#withRetries('retrieve', `GET ${responseId} (stream)`, signal, (s) => this.#client.openRetrieveStream(responseId, startingAfter, s));
  }

  /** Retries per call, as the policy allows them (stream resumes count against the same budget). */
  get maxRetries(): number {
    return this.#options.policy.maxRetries;
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  async #withRetries<T>(call: EndpointName, what: string, signal: AbortSignal | undefined, attempt: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    const { policy, sleep, now, onRetry, random } = this.#options;
    for (let retry = 1; ; retry++) {
      if (signal?.aborted) throw signal.reason;
      try {
        return await attempt(signal);
      } catch (error) {
        // A stop wins, except over a create that may have started a job: that must be said
        // (submit.ts), never "no response was created".
        if (signal?.aborted && !(call === 'create' && requestMayHaveActed(error))) throw signal.reason;
        if (retry > retriesFor(error, policy) || !isRetryable(call, error)) throw error;
        const delayMs = retryDelayMs(retry, error, policy, now(), random);
        onRetry?.({ call, what, retry, maxRetries: retriesFor(error, policy), delayMs, error });
        await sleep(delayMs, signal);
      }
    }
  }
}
