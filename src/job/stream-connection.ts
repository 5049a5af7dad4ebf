import type { StreamAnswer } from '../api/client.js';
import type { StreamEvent } from '../api/sse.js';
import { raceSignal } from './stream-breaks.js';

type Opened = Extract<StreamAnswer, { kind: 'stream' }>;

/**
 * One open event stream, read one event at a time. A stop ends a wait for the next event at
 * once but leaves that read pending, so the caller can still wait for the event (bounded)
 * before closing: see StreamReader's rule after response.created (stream-reader.ts).
 */
export class StreamConnection {
  readonly #opened: Opened;
  readonly #iterator: AsyncIterator<StreamEvent>;
  #pending: Promise<IteratorResult<StreamEvent>> | undefined;

  constructor(opened: Opened) {
    this.#opened = opened;
    this.#iterator = opened.events[Symbol.asyncIterator]();
  }

  /** The next event, undefined when the stream ended; a drop throws; a stop throws the signal's reason. */
  async next(signal: AbortSignal | undefined): Promise<StreamEvent | undefined> {
    this.#pending ??= this.#iterator.next();
    try {
      const result = await raceSignal(this.#pending, signal);
      this.#pending = undefined;
      return result.done ? undefined : result.value;
    } catch (error) {
      // After a stop the read stays pending (see nextWithin); after a drop it is spent.
      if (!(signal?.aborted && error === signal.reason)) this.#pending = undefined;
      throw error;
    }
  }

  /** The next event if one comes within `ms`, else why not. */
  async nextWithin(ms: number): Promise<StreamEvent | 'timeout' | 'ended'> {
    this.#pending ??= this.#iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const outcome = await Promise.race([this.#pending.catch(() => 'failed' as const), timeout]).finally(() => clearTimeout(timer));
    this.#pending = undefined;
    if (outcome === 'timeout') return 'timeout';
    return typeof outcome === 'object' && !outcome.done ? outcome.value : 'ended';
  }

  /** Closes the connection at once; ending the generator records the request's row in Outbound Requests. */
  close(): void {
    this.#opened.close();
    this.#pending = undefined;
    void this.#iterator.return?.()?.catch(() => {});
  }
}
