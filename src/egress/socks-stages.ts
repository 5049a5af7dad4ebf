import type { Socket } from 'node:net';
import type { ProxySettings } from './proxy-config.js';
import { bounded, StageFailure } from './stages.js';

/**
 * The SOCKS5 stages (RFC 1928, RFC 1929), through undici's own client (lib/core/socks5-client.js,
 * undici 7.28 or later): the greeting with its authentication, then the proxy's reply to the
 * connect request. `check` times each stage; `run` goes through the same two functions (see
 * src/api/dispatcher.ts), so both give the same diagnosis.
 */

/** Which step failed, as a stable code a diagnosis can recognise. */
type SocksStep = 'tcp' | 'handshake' | 'reply';

export class SocksFailure extends StageFailure {
  override name = 'SocksFailure';
  readonly code: string;
  constructor(message: string, hint: string, readonly step: SocksStep, blocked: boolean, cause?: unknown, reply?: number) {
    // The reply code is what names a SOCKS ruleset (src/egress/controls.ts).
    super(message, hint, undefined, { blocked, cause, observed: reply === undefined ? undefined : { status: reply } });
    this.code = `BGPROBE_SOCKS_${step.toUpperCase()}`;
  }
}

/** RFC 1928 section 6, the reply codes in words. */
const SOCKS_REPLIES: Readonly<Record<number, string>> = {
  1: 'general SOCKS server failure',
  2: "connection not allowed by ruleset: the proxy's policy denies this destination",
  3: 'network unreachable from the proxy',
  4: 'host unreachable from the proxy',
  5: 'connection refused by the destination, as the proxy saw it',
  6: 'TTL expired on the way',
  7: 'command not supported by the proxy',
  8: 'address type not supported by the proxy',
};

function replyHint(reply: number, target: string): string {
  switch (reply) {
    case 2:
      return `the SOCKS proxy's ruleset must allow ${target}; ask for it to be added`;
    case 3:
    case 4:
    case 6:
      return `the proxy itself cannot reach ${target}: check the proxy's own DNS and egress`;
    case 5:
      return `nothing accepts connections at ${target} as the proxy sees it: check the host and port of --base-url`;
    default:
      return "the proxy failed to open the connection: check the proxy's logs";
  }
}

/** undici's Socks5Client, as much of it as bgprobe uses. */
interface Socks5ClientLike {
  state: string;
  handshake(): void;
  connect(address: string, port: number): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  onSocketData: (...args: unknown[]) => void;
  onSocketError: (...args: unknown[]) => void;
  onSocketClose: (...args: unknown[]) => void;
  sendAuthRequest: () => void;
}

/** What the greeting settled: the client, and whether the proxy asked for username/password. */
interface Greeting {
  readonly client: Socks5ClientLike;
  readonly authenticated: boolean;
}
type Socks5ClientClass = new (socket: Socket, options: { username?: string | null; password?: string | null }) => Socks5ClientLike;

/** undici's SOCKS5 client, loaded by path like the dispatchers (see src/api/dispatcher.ts). */
export async function loadSocksClient(): Promise<Socks5ClientClass> {
  const module = await import('undici/lib/core/socks5-client.js');
  return module.default.Socks5Client as unknown as Socks5ClientClass;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Waits for one of undici's client events, or the socket closing first. */
function waitFor(client: Socks5ClientLike, socket: Socket, event: string, onError: (error: Error & { code?: string }) => StageFailure, onClose: () => StageFailure): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (): void => {
      client.off(event, done);
      client.off('error', failed);
      socket.off('close', closed);
    };
    const done = (): void => {
      settle();
      resolve();
    };
    const failed = (error: unknown): void => {
      settle();
      reject(onError(error as Error & { code?: string }));
    };
    const closed = (): void => {
      settle();
      reject(onClose());
    };
    client.once(event, done);
    client.once('error', failed);
    socket.once('close', closed);
  });
}

/** The greeting and, when the proxy asks for it, username/password authentication (RFC 1929). */
export async function socksGreet(Client: Socks5ClientClass, socket: Socket, proxy: ProxySettings, timeoutMs: number): Promise<Greeting> {
  const user = proxy.url.username ? decoded(proxy.url.username) : null;
  const password = proxy.url.password ? decoded(proxy.url.password) : null;
  const client = new Client(socket, { username: user, password });
  // undici's client re-emits socket errors; one with no listener would end the process.
  client.on('error', () => {});
  // Whether the proxy chose username/password (RFC 1929) or no authentication, for check's line.
  let authenticated = false;
  const sendAuthRequest = client.sendAuthRequest.bind(client);
  client.sendAuthRequest = () => {
    authenticated = true;
    sendAuthRequest();
  };
  const given = user !== null && password !== null;
  const where = `the SOCKS proxy ${proxy.display}`;
  const work = waitFor(
    client,
    socket,
    'authenticated',
    (error) => {
      if (error.code === 'UND_ERR_SOCKS5_AUTH_FAILED') {
        return new SocksFailure(`${where} rejected the username and password (user ${user ?? ''})`, 'check the user name and password in the proxy URL (percent-encode @ : / and % in them)', 'handshake', false);
      }
      if (error.code === 'UND_ERR_SOCKS5_AUTH_REJECTED' || /Username and password required/.test(error.message)) {
        return given
          ? new SocksFailure(`${where} accepts neither username/password nor no authentication`, 'it may want GSSAPI (Kerberos), which bgprobe cannot do: run a local proxy that authenticates for you, and point --proxy at it', 'handshake', false)
          : new SocksFailure(`${where} requires authentication and none was given`, 'put the credentials in the proxy URL: socks5://user:password@host:port', 'handshake', false);
      }
      if (error.code === 'UND_ERR_SOCKS5_VERSION') {
        return new SocksFailure(`${where} did not answer as a SOCKS5 proxy (${error.message})`, 'check the port; an HTTP proxy is written http://host:port', 'handshake', false);
      }
      return new SocksFailure(`the SOCKS5 handshake with ${where} failed (${error.code ?? error.message})`, 'check that a SOCKS5 proxy listens there', 'handshake', false);
    },
    () => new SocksFailure(`${where} closed the connection during the SOCKS5 handshake`, 'check that a SOCKS5 proxy (not SOCKS4 or HTTP) listens there', 'handshake', false),
  );
  client.handshake();
  await bounded(timeoutMs, `waiting for ${where} to answer the SOCKS5 greeting`, 'the proxy accepted the connection but does not speak SOCKS5: check the port', work, () => socket.destroy());
  return { client, authenticated };
}

/** The connect request; resolves when the proxy replied "succeeded", then hands the socket back clean. */
export async function socksConnect(client: Socks5ClientLike, socket: Socket, proxy: ProxySettings, host: string, port: number, timeoutMs: number): Promise<number> {
  const target = `${host}:${port}`;
  const where = `the SOCKS proxy ${proxy.display}`;
  const work = waitFor(
    client,
    socket,
    'connected',
    (error) => {
      const reply = Number(/^UND_ERR_SOCKS5_REPLY_(\d+)$/.exec(error.code ?? '')?.[1]);
      if (Number.isInteger(reply)) {
        return new SocksFailure(`${where} refused to connect to ${target}: reply ${reply}, ${SOCKS_REPLIES[reply] ?? 'an unknown reply code'}`, replyHint(reply, target), 'reply', reply === 2, undefined, reply);
      }
      return new SocksFailure(`${where} sent an unreadable reply to the connect request (${error.code ?? error.message})`, 'check that a SOCKS5 proxy listens there', 'reply', false);
    },
    () => new SocksFailure(`${where} closed the connection without replying to the connect request for ${target}`, `the proxy cannot reach ${target} or refuses it without saying so: check its logs and its rules`, 'reply', false),
  );
  client.connect(host.replace(/^\[|\]$/g, ''), port);
  await bounded(timeoutMs, `waiting for ${where} to reply to the connect request for ${target}`, `the proxy does not answer: it may be unable to reach ${target}`, work, () => socket.destroy());
  // undici's client keeps reading the socket otherwise; from here on it carries TLS or HTTP.
  socket.off('data', client.onSocketData);
  socket.off('error', client.onSocketError);
  socket.off('close', client.onSocketClose);
  return 0;
}
