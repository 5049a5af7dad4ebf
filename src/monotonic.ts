/**
 * Monotonic milliseconds for schedules and durations. process.hrtime rather than
 * performance.now(): the first use of the global `performance` loads Node's perf_hooks,
 * about 10 ms of CPU at start-up (measured on Node 20, docs/performance.md).
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1000 + nanoseconds / 1e6;
}
