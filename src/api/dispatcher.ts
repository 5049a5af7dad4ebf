import type { Dispatcher } from 'undici';

/** How bgprobe reaches the API host; one value per run, resolved once from flags and environment. */
export interface NetworkSettings {
  readonly baseUrl: URL;
  /** Per-request bound: no request may outlive it. */
  readonly timeoutMs: number;
  /** Largest answer body accepted, in bytes. */
  readonly maxResponseBytes: number;
}

/** Long enough to keep one connection alive across polls minutes apart; servers' hints lower it. */
const KEEP_ALIVE_MS = 10 * 60_000;

/**
 * The one connection pool of a run. undici is imported here, lazily, so commands that
 * send nothing never load it.
 */
export async function createDispatcher(settings: NetworkSettings): Promise<Dispatcher> {
  const { Agent } = await import('undici');
  return new Agent({
    // One connection per origin: create, polls and cancel share a single keep-alive socket.
    connections: 1,
    pipelining: 1,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
    connect: { timeout: innerTimeout(settings.timeoutMs) },
  });
}

/**
 * undici's own timers fire a little before the hard deadline, so the usual timeout
 * carries undici's precise error; the hard deadline only catches what they miss.
 */
export function innerTimeout(timeoutMs: number): number {
  return Math.max(1, timeoutMs - Math.min(250, Math.floor(timeoutMs * 0.1)));
}
