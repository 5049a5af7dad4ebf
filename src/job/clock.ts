import { monotonicMs } from '../monotonic.js';

/** Time as the polling loop sees it; tests and benchmarks pass their own. */
export interface Clock {
  /** Monotonic milliseconds, for schedules and durations. */
  monotonic(): number;
  /** Wall-clock time, for timestamps. */
  now(): Date;
  /** Waits, ending early (rejecting with the signal's reason) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  monotonic: monotonicMs,
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
