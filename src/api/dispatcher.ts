import diagnostics from 'node:diagnostics_channel';
import { setFlagsFromString } from 'node:v8';
import type { Agent as UndiciAgent, buildConnector, Dispatcher, ProxyAgent as UndiciProxyAgent } from 'undici';
import type { ProxySettings } from '../egress/proxy-config.js';
import { caOption, type TrustSettings } from '../egress/trust.js';
import { TunnelDroppedError } from '../egress/tunnel-watch.js';
import { baselineWasmFlag } from './wasm-tier.js';

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

/** A direct connection with Node's own trust store: what the benchmark and low-level tests use. */
export function directSettings(baseUrl: URL, timeoutMs: number, maxResponseBytes: number): NetworkSettings {
  return {
    baseUrl,
    timeoutMs,
    maxResponseBytes,
    proxy: undefined,
    proxyExplanation: 'direct',
    trust: { extra: [], addedPems: undefined, description: "Node's bundled roots" },
  };
}

type UndiciConnector = buildConnector.connector;

/** Long enough to keep one connection alive across polls minutes apart; servers' hints lower it. */
const KEEP_ALIVE_MS = 10 * 60_000;

/**
 * The one connection pool of a run. undici is imported here, lazily, so commands that
 * send nothing never load it. Through a proxy, the same single connection is a CONNECT tunnel.
 */
export async function createDispatcher(settings: NetworkSettings): Promise<Dispatcher> {
  const timeout = innerTimeout(settings.timeoutMs);
  // Only pass `ca` when bgprobe adds CAs: a `ca` option replaces Node's whole default store.
  const ca = settings.trust.addedPems ? caOption(settings.trust, (await import('node:tls')).rootCertificates) : undefined;
  const tls = ca ? { ca } : {};
  const pool = {
    // One connection per origin: create, polls and cancel share a single keep-alive socket.
    connections: 1,
    pipelining: 1,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
  };
  if (settings.proxy?.kind === 'socks5') {
    const Agent = await loadUndici('agent');
    // Loaded only for a SOCKS proxy: it brings node:tls and node:dns with it.
    const { socksConnector } = await import('./socks-connector.js');
    const connect = (await socksConnector(settings.proxy, ca, sniName(settings.baseUrl), timeout)) as unknown as UndiciConnector;
    return new Agent({ ...pool, connect });
  }
  if (settings.proxy) {
    const ProxyAgent = await loadUndici('proxy-agent');
    return guardDroppedTunnels(new ProxyAgent({
      ...pool,
      uri: settings.proxy.url.href,
      // undici reads the servername from requestTls when it is given; keep SNI on the API host.
      requestTls: { ...tls, timeout, servername: sniName(settings.baseUrl) },
      proxyTls: { ...tls, timeout },
      ...(settings.proxy.url.protocol === 'https:' ? { clientFactory: await proxyClientWithoutIpSni() } : {}),
    }), settings.baseUrl.host);
  }
  const Agent = await loadUndici('agent');
  return new Agent({ ...pool, connect: { ...tls, timeout } });
}

/** Connections a proxy may close unanswered before the run stops asking: undici 7 would retry forever. */
const DROPS_BEFORE_GIVING_UP = 3;
/** What a proxy that drops CONNECT surfaces as, to undici's target client. */
const DROP_CODES: ReadonlySet<string> = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * Ends undici 7's reconnect loop (nodejs/undici#3897): a proxy that closes or resets the
 * connection instead of answering CONNECT makes the agent reconnect thousands of times a second
 * until the deadline. After a few such drops the pool is destroyed with an error that says so,
 * which fails the request at once; src/egress/tunnel-watch.ts words the diagnosis.
 */
function guardDroppedTunnels<D extends Dispatcher>(agent: D, targetHost: string): D {
  let drops = 0;
  // A drop is a failed connection while a CONNECT went out unanswered; a reset after the tunnel
  // opened (a TLS failure inside it) is not one, and undici does not loop on it anyway.
  let unanswered = false;
  const onSend = (message: unknown): void => {
    if ((message as { request?: { method?: string } }).request?.method === 'CONNECT') unanswered = true;
  };
  const onAnswer = (message: unknown): void => {
    if ((message as { request?: { method?: string } }).request?.method === 'CONNECT') unanswered = false;
  };
  const onConnectError = (message: unknown): void => {
    const { connectParams, error } = message as { connectParams?: { host?: string }; error?: { code?: unknown } };
    if (connectParams?.host !== targetHost || !unanswered || !DROP_CODES.has(String(error?.code))) return;
    unanswered = false;
    drops += 1;
    if (drops < DROPS_BEFORE_GIVING_UP) return;
    stop();
    agent.destroy(new TunnelDroppedError(drops)).catch(() => {});
  };
  const channels: [string, (message: unknown) => void][] = [
    ['undici:client:sendHeaders', onSend],
    ['undici:request:headers', onAnswer],
    ['undici:client:connectError', onConnectError],
  ];
  const stop = (): void => {
    for (const [name, handler] of channels) diagnostics.unsubscribe(name, handler);
  };
  for (const [name, handler] of channels) diagnostics.subscribe(name, handler);
  for (const method of ['close', 'destroy'] as const) {
    const original = agent[method].bind(agent) as (...args: unknown[]) => Promise<void>;
    (agent as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      stop();
      return original(...args);
    };
  }
  return agent;
}

/**
 * undici names an https:// proxy in SNI by its host even when that is an IP address, which Node
 * 22 and later answer with a DEP0123 warning on stderr. The proxy's client here drops such a name.
 */
async function proxyClientWithoutIpSni(): Promise<NonNullable<UndiciProxyAgent.Options['clientFactory']>> {
  const [{ default: Client }, { isIP }] = await Promise.all([import('undici/lib/dispatcher/client.js'), import('node:net')]);
  return (origin, options) => {
    const connect = (options as { connect?: unknown } | undefined)?.connect as UndiciConnector | undefined;
    if (typeof connect !== 'function') return new Client(origin, options);
    const withoutIpName: UndiciConnector = (params, callback) => connect({ ...params, servername: params.servername && isIP(params.servername) ? undefined : params.servername }, callback);
    return new Client(origin, { ...options, connect: withoutIpName });
  };
}

/** SNI carries host names only, never IP addresses. */
function sniName(url: URL): string | undefined {
  const host = url.hostname;
  return /^[\d.]+$/.test(host) || host.startsWith('[') ? undefined : host;
}

/** The package index, named in a variable so that the bundler leaves this fallback out. */
const UNDICI_INDEX = 'undici';

interface UndiciClasses {
  readonly agent: typeof UndiciAgent;
  readonly 'proxy-agent': typeof UndiciProxyAgent;
}

/**
 * undici's Agent (or ProxyAgent) and its `request` method, loaded on their own: the package
 * index also loads fetch, WebSocket, the cache and the mocks, which costs more start-up time
 * than everything else `run` does before its first request (about 150 ms of CPU on the
 * benchmark machine, see docs/performance.md). Loading by path also lets the bundle
 * (scripts/bundle.ts) carry exactly these modules. They have been at these paths since undici
 * 6; if a release moves them (or stops exporting its lib/ folder), the index is loaded instead,
 * and test/undici-paths.test.ts fails, so that the move is fixed here rather than met by users.
 * package.json keeps undici to the patch releases of the minor the tests ran on.
 */
async function loadUndici<K extends keyof UndiciClasses>(kind: K): Promise<UndiciClasses[K]> {
  // Before undici compiles llhttp (src/api/wasm-tier.ts); the installed command has set it already.
  const wasmFlag = baselineWasmFlag();
  if (wasmFlag) setFlagsFromString(wasmFlag);
  try {
    const [dispatcherClass, dispatcher, request, connect] = await Promise.all([
      kind === 'agent' ? import('undici/lib/dispatcher/agent.js') : import('undici/lib/dispatcher/proxy-agent.js'),
      import('undici/lib/dispatcher/dispatcher.js'),
      import('undici/lib/api/api-request.js'),
      import('undici/lib/api/api-connect.js'),
    ]);
    // What the index does for every API method (`Object.assign(Dispatcher.prototype, api)`), for
    // the two in use: bgprobe's calls are requests, and ProxyAgent opens its tunnel with connect.
    dispatcher.default.prototype.request ??= request.default;
    dispatcher.default.prototype.connect ??= connect.default;
    return dispatcherClass.default as UndiciClasses[K];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
    const index = (await import(UNDICI_INDEX)) as typeof import('undici');
    return (kind === 'agent' ? index.Agent : index.ProxyAgent) as UndiciClasses[K];
  }
}

/**
 * undici's own timers fire a little before the hard deadline, so the usual timeout
 * carries undici's precise error; the hard deadline only catches what they miss.
 */
export function innerTimeout(timeoutMs: number): number {
  return Math.max(1, timeoutMs - Math.min(250, Math.floor(timeoutMs * 0.1)));
}
