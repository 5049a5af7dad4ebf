import { ResponsesClient, type Exchange } from '../api/client.js';
import { createDispatcher } from '../api/dispatcher.js';
import { DEFAULT_RETRY_POLICY } from '../api/retry.js';
import { RetryingClient, type RetryNotice } from '../api/retrying-client.js';
import type { ApiConfig } from '../config/run-config.js';
import { TunnelWatch } from '../egress/tunnel-watch.js';
import { systemClock, type Clock } from './clock.js';
import type { EvidenceCollector } from './evidence.js';
import type { Journal } from './journal.js';

/**
 * The one place a `ResponsesClient` is built from the resolved configuration, for run, poll,
 * cancel and check alike: the base URL, the key, the pool (direct or through the proxy, with
 * the run's CAs) and, behind a proxy, the watch that names a refused or dropped tunnel.
 */
export function createResponsesClient(
  config: ApiConfig,
  onExchange: (exchange: Exchange) => void,
  diagnosis: TunnelWatch | undefined = config.network.proxy ? new TunnelWatch(config.network.proxy) : undefined,
): ResponsesClient {
  return new ResponsesClient({
    baseUrl: config.network.baseUrl,
    apiKey: config.apiKey,
    organization: config.organization,
    project: config.project,
    timeoutMs: config.network.timeoutMs,
    maxResponseBytes: config.network.maxResponseBytes,
    createDispatcher: () => createDispatcher(config.network),
    diagnosis,
    proxied: config.network.proxy !== undefined,
    proxyCredentials: config.network.proxy !== undefined && (config.network.proxy.url.username !== '' || config.network.proxy.url.password !== ''),
    httpProxy: config.network.proxy?.kind === 'http',
    onExchange,
  });
}

/** The API client of a command that follows a response: the endpoint calls, every request a journal row, every retry a journal event. */
export function createApiClient(config: ApiConfig, journal: Journal, clock: Clock = systemClock, evidence?: EvidenceCollector): RetryingClient {
  const http = createResponsesClient(config, (exchange) => {
    evidence?.noteExchange(exchange);
    journal.exchange(exchange);
  });
  return new RetryingClient(http, {
    policy: { ...DEFAULT_RETRY_POLICY, maxRetries: config.maxRetries },
    sleep: (ms, signal) => clock.sleep(ms, signal),
    now: () => clock.now(),
    onRetry: (notice) => journal.warn(retryEvent(notice)),
  });
}

/** `Retry 1/5 in 0.4 s after: GET /v1/responses/resp_1 failed: the API answered HTTP 503 ...` */
function retryEvent(notice: RetryNotice): string {
  const why = notice.error instanceof Error ? notice.error.message : String(notice.error);
  return `Retry ${notice.retry}/${notice.maxRetries} in ${(notice.delayMs / 1000).toFixed(1)} s after: ${why}`;
}
