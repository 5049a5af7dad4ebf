import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { ProxySettings } from './proxy-config.js';
import type { Observation } from './controls.js';
import { CERTIFICATE_CODES, droppedTunnel, pageText, refusalHint, refusalReason, untrustedProxyCertificate } from './proxy-answers.js';

/**
 * The stage-by-stage checks of `bgprobe check`, done by hand on raw sockets so that each one
 * has its own deadline and its own answer (undici hides a CONNECT refusal's headers and can
 * loop forever on a dropped CONNECT). Nothing here sends an HTTP request to the API.
 */
export class StageFailure extends Error {
  override name = 'StageFailure';
  constructor(
    message: string,
    /** What to do about it, one line. */
    readonly hint: string,
    /** The proxy's status when it refused CONNECT: such a refusal is blocked unless `extra` says otherwise. */
    refusedStatus?: number,
    /** What else is known: what was seen, for naming the egress control (src/egress/controls.ts; the stage is added by the caller), whether a policy refused the path (a CONNECT refusal, a SOCKS ruleset denial: blocked, not unreachable), and the socket error behind it. */
    extra: { readonly observed?: Omit<Observation, 'stage'>; readonly blocked?: boolean; readonly cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.observed = extra.observed;
    this.blocked = extra.blocked ?? refusedStatus !== undefined;
  }
  readonly observed: Omit<Observation, 'stage'> | undefined;
  readonly blocked: boolean;
}

/** Runs `work` and gives up after `ms`, calling `abort` so nothing outlives the deadline. */
export async function bounded<T>(ms: number, what: string, hint: string, work: Promise<T>, abort: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort();
      reject(new StageFailure(`${what}: no answer within ${ms / 1000} s (--timeout)`, hint, undefined, { observed: { errorCode: 'ETIMEDOUT', waitedMs: ms } }));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** DNS: getaddrinfo, as every later connection uses it (so /etc/hosts counts). */
export async function resolveHost(host: string, timeoutMs: number): Promise<{ address: string; detail: string }> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return { address: bare, detail: `${bare} is an IP address; nothing to look up` };
  const work = lookup(bare, { all: true }).catch((error: NodeJS.ErrnoException) => {
    throw new StageFailure(
      `the DNS lookup of ${bare} failed (${error.code ?? error.message})`,
      `check the name ${bare} and this machine's resolver; behind a proxy-only egress, set HTTPS_PROXY so that the proxy resolves names`,
    );
  });
  const answers = await bounded(timeoutMs, `the DNS lookup of ${bare}`, 'the resolver does not answer: check /etc/resolv.conf or the sandbox DNS policy', work, () => {});
  const first = answers[0];
  if (!first) throw new StageFailure(`the DNS lookup of ${bare} returned no address`, `check the name ${bare}`);
  return { address: first.address, detail: `${bare} resolved to ${answers.map((a) => a.address).join(', ')}` };
}

/**
 * TCP connect by name, trying every address the lookup gave (happy eyeballs), as undici does:
 * `localhost` may resolve to ::1 first while the server listens on 127.0.0.1 only.
 */
export async function openTcp(host: string, port: number, label: string, timeoutMs: number): Promise<Socket> {
  const address = host.replace(/^\[|\]$/g, '');
  const socket = tcpConnect({ host: address, port, autoSelectFamily: true });
  const work = new Promise<Socket>((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new StageFailure(
          `the TCP connection to ${label} (${address}:${port}) failed (${error.code ?? error.message})`,
          `nothing accepts connections there, or a firewall rejects them: check the host, the port and the egress rules`,
          undefined,
          { observed: { errorCode: error.code }, blocked: false, cause: error },
        ),
      ),
    );
  });
  return bounded(timeoutMs, `the TCP connection to ${label} (${address}:${port})`, 'packets are dropped on the way (a firewall DROP rule or a black-holed address): check the egress rules', work, () => socket.destroy());
}

interface TunnelAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Sends CONNECT host:port to the proxy and reads its answer; resolves only on 200. */
export async function openTunnel(socket: Socket | TLSSocket, proxy: ProxySettings, target: string, timeoutMs: number): Promise<TunnelAnswer> {
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (proxy.url.username) {
    const user = decodeURIComponent(proxy.url.username);
    const password = decodeURIComponent(proxy.url.password);
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
  }
  const work = new Promise<TunnelAnswer>((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    let head: Omit<TunnelAnswer, 'body'> | undefined;
    let bodyStart = 0;
    const finish = (): void => {
      if (!head) return;
      socket.removeAllListeners('data');
      const body = buffer.subarray(bodyStart).toString('utf8').slice(0, 20_000);
      if (head.status === 200) resolve({ ...head, body: '' });
      else {
        const credentialsGiven = proxy.url.username !== '' || proxy.url.password !== '';
        reject(
          new StageFailure(
            `the proxy refused CONNECT ${target}: ${refusalReason(head.status, head.statusText, head.headers, body)}`,
            refusalHint(head.status, head.headers, target, credentialsGiven, proxy.url.username ? decodeURIComponent(proxy.url.username) : undefined),
            head.status,
            // A 5xx says the proxy could not reach the host (as a proxy's 5xx to a request does, src/egress/probes.ts): unreachable, not a refusal by policy.
            { observed: { status: head.status, headers: head.headers, body }, blocked: head.status < 500 || head.status > 599 },
          ),
        );
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!head) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = parseHead(buffer.subarray(0, end).toString('latin1'));
        bodyStart = end + 4;
        // A refusal's body says why; give it a moment to arrive, then go on without it.
        if (head.status === 200) finish();
        else setTimeout(finish, 100);
      }
    });
    socket.once('close', () => {
      if (head) return finish();
      const dropped = droppedTunnel(target);
      reject(new StageFailure(dropped.message, `${dropped.hint}; undici 7 would retry this forever, bgprobe stops at once`));
    });
    socket.once('error', () => {});
  });
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  return bounded(timeoutMs, `waiting for the proxy's answer to CONNECT ${target}`, 'the proxy accepted the connection but does not answer: check that it is an HTTP proxy and that it can reach the API host', work, () => socket.destroy());
}

function parseHead(text: string): Omit<TunnelAnswer, 'body'> {
  const [statusLine = '', ...rest] = text.split('\r\n');
  const match = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\s*(.*)$/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    // Repeated headers (several Proxy-Authenticate challenges) are joined as HTTP allows.
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: match ? Number(match[1]) : 0, statusText: match?.[2] ?? pageText(statusLine), headers };
}

export interface Handshake {
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
  readonly protocol: string | null;
  /** Leaf first, as the peer sent it. */
  readonly chain: readonly PeerCertificate[];
}

/**
 * The TLS handshake, without rejecting an untrusted peer so that its chain can be shown;
 * `authorized` still says whether the configured trust store (and host name) accepts it.
 * Nothing is ever sent over this connection: it is closed right after the handshake.
 */
export async function handshake(socket: Socket, servername: string, ca: readonly string[] | undefined, timeoutMs: number): Promise<Handshake> {
  const tls = tlsConnect({
    socket,
    ...(isIP(servername) ? {} : { servername }),
    ALPNProtocols: ['http/1.1'],
    rejectUnauthorized: false,
    ...(ca ? { ca: [...ca] } : {}),
  });
  const work = new Promise<Handshake>((resolve, reject) => {
    tls.once('secureConnect', () => {
      const result = {
        authorized: tls.authorized,
        authorizationError: tls.authorizationError === undefined || tls.authorizationError === null ? undefined : String(tls.authorizationError),
        protocol: tls.getProtocol(),
        chain: chainOf(tls.getPeerCertificate(true)),
      };
      tls.destroy();
      resolve(result);
    });
    tls.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new StageFailure(
          `the TLS handshake with ${servername} failed (${error.code ?? 'error'}: ${error.message})`,
          handshakeFailureHint(error.code, servername),
          undefined,
          { observed: { errorCode: error.code } },
        ),
      );
    });
  });
  return bounded(timeoutMs, `the TLS handshake with ${servername}`, 'the peer accepted the connection but does not answer the TLS handshake: a proxy that holds the tunnel open without reaching the API, an upstream that is slow or dead, or not a TLS server', work, () => tls.destroy());
}

/** OpenSSL's code for a TLS alert the peer sent: ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION, ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE ... */
const PEER_ALERT = /^ERR_SSL_(?:SSLV3|TLSV1\d*)_ALERT_(\w+)$/;

/** Why a handshake failed, by what the peer did: a TLS alert is an answer (the peer speaks TLS), not a cut connection. */
function handshakeFailureHint(code: string | undefined, servername: string): string {
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'the other end does not speak TLS: an https:// proxy URL for a plain http:// proxy, or the wrong port';
  const alert = PEER_ALERT.exec(code ?? '')?.[1];
  if (alert !== undefined) {
    return `the peer answered the handshake with a TLS alert (${alert.toLowerCase()}): it speaks TLS and refused this client's offer (TLS 1.2 or later, ALPN http/1.1) or the name ${servername}: check --base-url, or what answers TLS on the way`;
  }
  return 'the connection was cut during the handshake: a proxy or firewall that filters by server name (SNI) or cannot reach the API host';
}

function chainOf(leaf: PeerCertificate): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  let current: PeerCertificate | undefined = leaf && Object.keys(leaf).length > 0 ? leaf : undefined;
  while (current && chain.length < 10) {
    chain.push(current);
    const next = (current as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
    if (!next || next === current || next.fingerprint256 === current.fingerprint256) break;
    current = next;
  }
  return chain;
}

/** TLS to an https:// proxy itself, verified against the configured store, before CONNECT goes through it. */
export async function secureProxy(socket: Socket, proxy: ProxySettings, ca: readonly string[] | undefined, timeoutMs: number): Promise<TLSSocket> {
  const host = proxy.url.hostname.replace(/^\[|\]$/g, '');
  const tls = tlsConnect({ socket, ...(isIP(host) ? {} : { servername: host }), ...(ca ? { ca: [...ca] } : {}) });
  const work = new Promise<TLSSocket>((resolve, reject) => {
    tls.once('secureConnect', () => resolve(tls));
    tls.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? error.message;
      reject(
        CERTIFICATE_CODES.test(code)
          ? new StageFailure(`the https:// proxy ${proxy.display} presented a certificate this run does not trust (${code})`, untrustedProxyCertificate(proxy.display, code).replace(/^.*?\): /, ''))
          : new StageFailure(`the TLS handshake with the https:// proxy ${host} failed (${code})`, 'if the proxy speaks plain HTTP, write its URL with http://'),
      );
    });
  });
  return bounded(timeoutMs, `the TLS handshake with the proxy ${host}`, 'the proxy does not answer TLS: write its URL with http://', work, () => tls.destroy());
}
