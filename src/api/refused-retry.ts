import { NetworkError } from '../errors.js';
import { RefusedByProxy } from '../egress/tunnel-watch.js';
import type { RetryPolicy } from './retry.js';

/**
 * Retries left for this failure: a connection refused by a loopback address or by the proxy the
 * user named is a typo in a port or a proxy that is not running, so it gets at most one retry
 * (not five, about 13 s); anything else gets the policy's count. Kept beside retry.ts, whose
 * rules say whether a call may be sent again at all.
 */
export function retriesFor(error: unknown, policy: RetryPolicy): number {
  return refusedNearby(error) ? Math.min(1, policy.maxRetries) : policy.maxRetries;
}

function refusedNearby(error: unknown): boolean {
  if (!(error instanceof NetworkError) || error.stage !== 'connect') return false;
  if (error instanceof RefusedByProxy) return true;
  let current: unknown = error.cause;
  for (let depth = 0; depth < 6 && current; depth++) {
    const { code, address } = current as { code?: unknown; address?: unknown };
    if (code === 'ECONNREFUSED') return typeof address === 'string' && /^(127\.|::1$|::ffff:127\.)/.test(address);
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
