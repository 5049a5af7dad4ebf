import type { Dispatcher } from 'undici';
import type { ProxySettings } from '../egress/proxy-config.js';
import type { TrustSettings } from '../egress/trust.js';

/** How bgprobe reaches the API host; one value per run, resolved once from flags and environment. */
export interface NetworkSettings {
  readonly baseUrl: URL;
  /** Per-request bound: no request may outlive it. */
  readonly timeoutMs: number;
  /** Largest answer body accepted, in bytes. */
  readonly maxResponseBytes: number;
  /** The proxy in front of the API host, when one applies (--proxy, HTTPS_PROXY, NO_PROXY). */
  readonly proxy: ProxySettings | undefined;
  /** One line saying which proxy applies and why, or why none does. */
  readonly proxyExplanation: string;
  /** The CA roots trusted for the API connection (--ca-file, --system-ca, NODE_EXTRA_CA_CERTS). */
  readonly trust: TrustSettings;
}

/** Long enough to keep one connection alive across polls minutes apart; servers' hints lower it. */
const KEEP_ALIVE_MS = 10 * 60_000;

/**
 * The one connection pool of a run. undici is imported here, lazily, so commands that
 * send nothing never load it. Through a proxy, the same single connection is a CONNECT tunnel.
 */
export async function createDispatcher(settings: NetworkSettings): Promise<Dispatcher> {
  const { Agent, ProxyAgent } = await import('undici');
  const timeout = innerTimeout(settings.timeoutMs);
  // Only pass `ca` when bgprobe adds CAs: a `ca` option replaces Node's whole default store.
  const tls = settings.trust.ca ? { ca: [...settings.trust.ca] } : {};
  const pool = {
    // One connection per origin: create, polls and cancel share a single keep-alive socket.
    connections: 1,
    pipelining: 1,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
  };
  if (settings.proxy) {
    return new ProxyAgent({
      ...pool,
      uri: settings.proxy.url.href,
      // undici reads the servername from requestTls when it is given; keep SNI on the API host.
      requestTls: { ...tls, timeout, servername: sniName(settings.baseUrl) },
      proxyTls: { ...tls, timeout },
    });
  }
  return new Agent({ ...pool, connect: { ...tls, timeout } });
}

/** SNI carries host names only, never IP addresses. */
function sniName(url: URL): string | undefined {
  const host = url.hostname;
  return /^[\d.]+$/.test(host) || host.startsWith('[') ? undefined : host;
}

/**
 * undici's own timers fire a little before the hard deadline, so the usual timeout
 * carries undici's precise error; the hard deadline only catches what they miss.
 */
export function innerTimeout(timeoutMs: number): number {
  return Math.max(1, timeoutMs - Math.min(250, Math.floor(timeoutMs * 0.1)));
}
