import type { Dispatcher } from 'undici';
import { NetworkError } from '../errors.js';

/**
 * A client's one undici pool, built on first use, and the hard deadline on every request: the
 * pool a deadline destroyed is built again by the next request.
 */
export class ConnectionPool {
  readonly #create: () => Promise<Dispatcher>;
  readonly #timeoutMs: number;
  #dispatcher: Promise<Dispatcher> | undefined;

  constructor(create: () => Promise<Dispatcher>, timeoutMs: number) {
    this.#create = create;
    this.#timeoutMs = timeoutMs;
  }

  get(): Promise<Dispatcher> {
    this.#dispatcher ??= this.#create();
    return this.#dispatcher;
  }

  /** Closes the pool; waits for nothing that is still running. */
  async close(): Promise<void> {
    const pending = this.#dispatcher;
    this.#dispatcher = undefined;
    if (pending) await (await pending).destroy().catch(() => {});
  }

  /**
   * Runs one request under a hard deadline. When it passes, the pool is destroyed: undici 7
   * can leave a request unsettled forever, even with an abort signal, when a proxy drops a
   * CONNECT without answering (nodejs/undici#3897); destroying the pool is the only way out.
   */
  async withDeadline<T>(dispatcher: Dispatcher, what: string, stop: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = this.#timeoutMs;
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
