import diagnostics from 'node:diagnostics_channel';
import { NetworkError } from '../errors.js';
import { rootCoded } from '../api/transport-errors.js';
import type { ProxySettings } from './proxy-config.js';
import type { CallDescription } from './answer-origin.js';
import { CERTIFICATE_CODES, droppedTunnel, refusalHint, refusalReason, tunnelRefusedLine, untrustedProxyCertificate } from './proxy-answers.js';

/** The code of the error the dispatcher destroys its pool with when a proxy keeps dropping CONNECT. */
const TUNNEL_DROPPED = 'BGPROBE_TUNNEL_DROPPED';
/** The dispatcher gives up after this many drops (src/api/dispatcher.ts). */
const DROPPED_AT_LEAST = 3;

export class TunnelDroppedError extends Error {
  override name = 'TunnelDroppedError';
  readonly code = TUNNEL_DROPPED;
  constructor(readonly drops: number) {
    super(`the proxy closed ${drops} connections without answering CONNECT`);
  }
}

/**
 * A connection the named proxy refused: worth at most one retry (src/api/retry.ts), since a
 * wrong port or a proxy that is not running does not fix itself in seconds.
 */
export class RefusedByProxy extends NetworkError {
  override name = 'RefusedByProxy';
}

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
  readonly lastAnswer: { readonly status: number; readonly statusText: string; readonly headers: Readonly<Record<string, string>> } | undefined;
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
  response?: { statusCode?: number; statusText?: string; headers?: unknown[] };
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
  readonly #proxy: ProxySettings;
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
    this.#proxy = proxy;
    // A SOCKS proxy speaks no HTTP: its failures arrive as errors (src/api/socks-connector.ts).
    if (proxy.kind === 'socks5') return;
    this.#on('undici:client:connected', (m) => {
      const params = (m as ClientEvent).connectParams;
      if (params?.host === this.#proxyHost) this.#proxyConnections += 1;
      else this.#targetConnections += 1;
    });
    this.#on('undici:client:connectError', (m) => {
      const { connectParams, error } = m as ClientEvent & { error?: { code?: unknown; message?: unknown } };
      if (connectParams?.host !== this.#proxyHost) return;
      this.#proxyConnectErrors += 1;
      // undici wraps a proxy certificate's name mismatch in UND_ERR_PRX_TLS; the cause says what it was.
      this.#lastProxyError = rootCoded(error?.code === 'UND_ERR_PRX_TLS' ? (error as { cause?: unknown }).cause ?? error : error).code ?? String(error?.message ?? 'error');
    });
    this.#on('undici:client:sendHeaders', (m) => {
      if ((m as RequestEvent).request?.method === 'CONNECT') this.#connectsSent += 1;
    });
    this.#on('undici:request:headers', (m) => {
      const { request, response } = m as RequestEvent;
      if (request?.method !== 'CONNECT' || response?.statusCode === undefined) return;
      this.#lastAnswer = { status: response.statusCode, statusText: response.statusText ?? '', headers: rawHeaders(response.headers ?? []) };
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
    const what = `${call.name} (${call.method} ${call.path})`;
    if (this.#proxy.kind === 'socks5') return this.#explainSocks(error, what);
    const seen = this.observations;
    const code = rootCoded(error.cause ?? error).code;
    if (error.stage === 'proxy' && seen.lastAnswer && seen.lastAnswer.status !== 200) {
      const { status, statusText, headers } = seen.lastAnswer;
      const credentialsGiven = this.#proxy.url.username !== '' || this.#proxy.url.password !== '';
      const user = this.#proxy.url.username ? decodeURIComponent(this.#proxy.url.username) : undefined;
      // undici keeps no body of a refusal: the status line and headers are what there is.
      const line = tunnelRefusedLine(call, refusalReason(status, statusText, headers, ''), refusalHint(status, headers, call.host, credentialsGiven, user));
      return new NetworkError(line, 'proxy', false, { cause: error });
    }
    const unanswered = seen.connectsSent > 0 && seen.tunnelsUp === 0 && seen.lastAnswer === undefined;
    // Judged by what the proxy did, not by the stage the error was filed under: the pool the
    // dispatcher destroyed reports itself as UND_ERR_DESTROYED, whatever undici's words.
    const dropCode = code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
    if (code === TUNNEL_DROPPED || (unanswered && (dropCode || error.stage === 'socket' || (error.stage === 'timeout' && seen.proxyConnections > 1)))) {
      // The same words check prints; nothing went past the proxy, so nothing was delivered.
      const authority = /:\d+$/.test(call.host) ? call.host : `${call.host}:443`;
      const times = code === TUNNEL_DROPPED ? Math.max(seen.proxyConnections, DROPPED_AT_LEAST) : seen.proxyConnections;
      const dropped = droppedTunnel(authority, `the proxy ${proxyDisplay}`, times);
      const message = `${what}: ${dropped.message}; ${dropped.hint}`;
      return new NetworkError(message, 'proxy', false, { cause: error });
    }
    if (seen.connectsSent === 0 && this.#proxyConnectErrors > 0 && (error.stage === 'tls' || error.stage === 'timeout' || error.stage === 'unknown')) {
      // No CONNECT was ever written: the connection to the proxy itself failed, maybe over and over.
      const proxyCode = this.#lastProxyError ?? 'error';
      if (this.#proxyHttps && CERTIFICATE_CODES.test(proxyCode)) {
        return new NetworkError(`${what}: ${untrustedProxyCertificate(proxyDisplay, proxyCode)}`, 'tls', false, { cause: error });
      }
      const tries = this.#proxyConnectErrors > 1 ? `${this.#proxyConnectErrors} times, ` : '';
      const fix = this.#proxyHttps && /SSL|TLS/.test(proxyCode) ? 'if it is a plain HTTP proxy, write its URL with http://' : 'check the proxy URL and that the proxy runs';
      const message = `${what}: the connection to the proxy ${proxyDisplay} failed (${proxyCode}), ${tries}before any CONNECT; ${fix}`;
      return new NetworkError(message, 'proxy', false, { cause: error });
    }
    if (seen.connectsSent === 0 && this.#proxyConnectErrors > 0 && (error.stage === 'dns' || error.stage === 'connect')) {
      // The code names the proxy's failure, not the API host's: say whose it is. The stage stays,
      // so a refused connection is still retried (once: RefusedByProxy) as one that delivered nothing.
      const message = `${what}: the connection to the proxy ${proxyDisplay} failed (${this.#lastProxyError ?? 'error'}), before any CONNECT to ${call.host}; check the proxy URL and that the proxy runs`;
      return new RefusedByProxy(message, error.stage, error.maybeDelivered, { cause: error.cause });
    }
    if (error.stage === 'timeout' && seen.proxyConnections === 0) {
      const message = `${what}: no connection to the proxy ${proxyDisplay} completed before the deadline (--timeout); check that the proxy runs and answers${this.#proxyHttps ? ' TLS (or write its URL with http://)' : ''}`;
      return new NetworkError(message, 'proxy', false, { cause: error });
    }
    if (error.stage === 'timeout' && seen.tunnelsUp === 0 && seen.lastAnswer === undefined && seen.connectsSent > 0) {
      const message = `${what}: the proxy ${proxyDisplay} accepted the connection but never answered CONNECT ${call.host} before the deadline (--timeout); check that it is a working HTTP proxy and that it can reach ${call.host}`;
      return new NetworkError(message, 'proxy', false, { cause: error });
    }
    return error;
  }

  /** A SOCKS failure carries check's own words (src/egress/socks-stages.ts); TLS failures pass as they are. */
  #explainSocks(error: NetworkError, what: string): NetworkError {
    let current: unknown = error.cause;
    for (let depth = 0; depth < 6 && current; depth++) {
      // A StageFailure, recognised by shape so that this module does not load node:tls (stages.ts).
      const failure = current as Error & { hint?: unknown; step?: unknown };
      if (failure instanceof Error && typeof failure.hint === 'string' && /^(StageFailure|SocksFailure)$/.test(failure.name)) {
        const message = `${what}: ${failure.message}; ${failure.hint}`;
        if (failure.step === 'tcp') return new RefusedByProxy(message, 'connect', false, { cause: failure.cause });
        return new NetworkError(message, 'proxy', false, { cause: failure });
      }
      current = (current as { cause?: unknown }).cause;
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

/** undici passes raw headers as [name, value, name, value, ...] Buffers; repeated names are joined. */
function rawHeaders(raw: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase();
    const value = String(raw[i + 1]);
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}
