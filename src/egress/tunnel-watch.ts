import diagnostics from 'node:diagnostics_channel';
import { NetworkError } from '../errors.js';
import type { ProxySettings } from './proxy-config.js';
import { tunnelRefused, type CallDescription } from './answer-origin.js';

/** Turns a bare network failure into a diagnosis naming the cause; the client calls it on every failure. */
export interface FailureDiagnosis {
  explain(error: NetworkError, call: CallDescription): NetworkError;
  /** What the proxy did so far, for naming the egress control (src/egress/control-evidence.ts). */
  readonly observations?: TunnelObservations;
  dispose(): void;
}

/** What undici told its diagnostics channels about the CONNECTs to one proxy. */
export interface TunnelObservations {
  /** TCP connections opened to the proxy. */
  readonly proxyConnections: number;
  /** CONNECT requests written. */
  readonly connectsSent: number;
  /** The last answer to a CONNECT, when one came. */
  readonly lastAnswer: { readonly status: number; readonly headers: Readonly<Record<string, string>> } | undefined;
  /** Tunnels that opened (CONNECT 200). */
  readonly tunnelsUp: number;
  /** Connections to the API host completed through a tunnel (TLS included): none means the silence came before TLS. */
  readonly targetConnections?: number;
}

interface ClientEvent {
  connectParams?: { host?: string; protocol?: string };
}
interface RequestEvent {
  request?: { method?: string; origin?: unknown };
  response?: { statusCode?: number; headers?: unknown[] };
}

/**
 * Watches undici's diagnostics channels for the CONNECTs to a proxy. undici 7 hides what a
 * proxy answered: a refusal becomes UND_ERR_ABORTED without headers, and a proxy that closes
 * the connection without answering makes it reconnect forever (nodejs/undici#3897). The
 * channels still see each attempt and answer, so the diagnosis can name the cause.
 */
export class TunnelWatch implements FailureDiagnosis {
  readonly #proxyHost: string;
  readonly #proxyDisplay: string;
  readonly #proxyHttps: boolean;
  #proxyConnections = 0;
  #connectsSent = 0;
  #proxyConnectErrors = 0;
  #lastProxyError: string | undefined;
  #tunnelsUp = 0;
  #targetConnections = 0;
  #lastAnswer: TunnelObservations['lastAnswer'];
  readonly #subscriptions: [string, (message: unknown) => void][] = [];

  constructor(proxy: ProxySettings) {
    this.#proxyHost = proxy.url.host;
    this.#proxyDisplay = proxy.display;
    this.#proxyHttps = proxy.url.protocol === 'https:';
    this.#on('undici:client:connected', (m) => {
      const params = (m as ClientEvent).connectParams;
      if (params?.host === this.#proxyHost) this.#proxyConnections += 1;
      else this.#targetConnections += 1;
    });
    this.#on('undici:client:connectError', (m) => {
      const { connectParams, error } = m as ClientEvent & { error?: { code?: unknown; message?: unknown } };
      if (connectParams?.host !== this.#proxyHost) return;
      this.#proxyConnectErrors += 1;
      this.#lastProxyError = typeof error?.code === 'string' ? error.code : String(error?.message ?? 'error');
    });
    this.#on('undici:client:sendHeaders', (m) => {
      if ((m as RequestEvent).request?.method === 'CONNECT') this.#connectsSent += 1;
    });
    this.#on('undici:request:headers', (m) => {
      const { request, response } = m as RequestEvent;
      if (request?.method !== 'CONNECT' || response?.statusCode === undefined) return;
      this.#lastAnswer = { status: response.statusCode, headers: rawHeaders(response.headers ?? []) };
    });
    this.#on('undici:proxy:connected', () => {
      this.#tunnelsUp += 1;
    });
  }

  get observations(): TunnelObservations {
    return { proxyConnections: this.#proxyConnections, connectsSent: this.#connectsSent, lastAnswer: this.#lastAnswer, tunnelsUp: this.#tunnelsUp, targetConnections: this.#targetConnections };
  }

  /**
   * Rewrites a network failure with what the proxy did: a refused CONNECT names its status and
   * policy headers; a deadline passed while the proxy kept dropping CONNECTs says so.
   */
  explain(error: NetworkError, call: CallDescription): NetworkError {
    const proxyDisplay = this.#proxyDisplay;
    const seen = this.observations;
    if (error.stage === 'proxy' && seen.lastAnswer && seen.lastAnswer.status !== 200) {
      return new NetworkError(tunnelRefused(call, seen.lastAnswer.status, policyEvidence(seen.lastAnswer.headers)), 'proxy', false, { cause: error });
    }
    if (seen.connectsSent === 0 && this.#proxyConnectErrors > 0 && (error.stage === 'tls' || error.stage === 'timeout')) {
      // No CONNECT was ever written: the connection to the proxy itself failed, maybe over and over.
      const code = this.#lastProxyError ?? 'error';
      const tries = this.#proxyConnectErrors > 1 ? `${this.#proxyConnectErrors} times, ` : '';
      const fix = this.#proxyHttps && /SSL|TLS|CERT/.test(code) ? 'if it is a plain HTTP proxy, write its URL with http://, else trust its CA with --ca-file' : 'check the proxy URL and that the proxy runs';
      const message = `${call.name} (${call.method} ${call.path}): the connection to the proxy ${proxyDisplay} failed (${code}), ${tries}before any CONNECT; ${fix}`;
      return new NetworkError(message, 'proxy', false, { cause: error });
    }
    if (seen.connectsSent === 0 && this.#proxyConnectErrors > 0 && (error.stage === 'dns' || error.stage === 'connect')) {
      // The code names the proxy's failure, not the API host's: say whose it is. The stage stays,
      // so a refused connection is still retried as one that delivered nothing.
      const message = `${call.name} (${call.method} ${call.path}): the connection to the proxy ${proxyDisplay} failed (${this.#lastProxyError ?? 'error'}), before any CONNECT to ${call.host}; check the proxy URL and that the proxy runs`;
      return new NetworkError(message, error.stage, error.maybeDelivered, { cause: error.cause });
    }
    if (error.stage === 'timeout' && seen.proxyConnections === 0) {
      const message = `${call.name} (${call.method} ${call.path}): no connection to the proxy ${proxyDisplay} completed before the deadline (--timeout); check that the proxy runs and answers${this.#proxyHttps ? ' TLS (or write its URL with http://)' : ''}`;
      return new NetworkError(message, 'proxy', false, { cause: error });
    }
    if (error.stage === 'timeout' && seen.tunnelsUp === 0 && seen.lastAnswer === undefined && seen.connectsSent > 0) {
      const what = `${call.name} (${call.method} ${call.path})`;
      const message =
        seen.proxyConnections > 1
          ? `${what}: the proxy ${proxyDisplay} dropped the tunnel: it closed the connection ${seen.proxyConnections} times without answering CONNECT ${call.host}; stopped at the --timeout deadline. The proxy cannot reach ${call.host} or refuses it without saying so: check its logs and its allowlist`
          : `${what}: the proxy ${proxyDisplay} accepted the connection but never answered CONNECT ${call.host} before the deadline (--timeout); check that it is a working HTTP proxy and that it can reach ${call.host}`;
      return new NetworkError(message, 'proxy', false, { cause: error });
    }
    return error;
  }

  dispose(): void {
    for (const [name, handler] of this.#subscriptions) diagnostics.unsubscribe(name, handler);
    this.#subscriptions.length = 0;
  }

  #on(name: string, handler: (message: unknown) => void): void {
    diagnostics.subscribe(name, handler);
    this.#subscriptions.push([name, handler]);
  }
}

/** undici passes raw headers as [name, value, name, value, ...] Buffers. */
function rawHeaders(raw: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
  return out;
}

/** The headers that say which policy refused: `x-proxy-error`, `server`, `proxy-authenticate`. */
export function policyEvidence(headers: Readonly<Record<string, string>>): string | undefined {
  const parts = ['x-proxy-error', 'proxy-authenticate', 'server'].filter((n) => headers[n] !== undefined).map((n) => `${n}: ${(headers[n] as string).slice(0, 80)}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}
