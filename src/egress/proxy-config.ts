import { UsageError } from '../errors.js';
import type { Environment } from '../config/environment.js';

/** The proxy a run goes through, resolved once from `--proxy` or the environment. */
export interface ProxySettings {
  /** An HTTP proxy (CONNECT tunnels) or a SOCKS5 proxy. */
  readonly kind: 'http' | 'socks5';
  /** The URL undici gets, credentials included (socks5h:// and socks:// read as socks5://). Never print it: print `display`. */
  readonly url: URL;
  /** The same URL with the password masked: the only form that is ever shown. */
  readonly display: string;
  /** Where it came from: `--proxy`, `HTTPS_PROXY`, `https_proxy`, ... */
  readonly source: string;
}

/** Why no proxy applies, for `check` and the report. */
interface ProxyDecision {
  readonly proxy: ProxySettings | undefined;
  /** One line: which proxy and why, or why none. */
  readonly explanation: string;
}

/**
 * Lower case first: undici, curl and Node all let the lower-case variable win. An https://
 * URL falls back to HTTP_PROXY when no HTTPS_PROXY is set, as undici's EnvHttpProxyAgent does.
 */
const PROXY_VARS = {
  'https:': ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'],
  'http:': ['http_proxy', 'HTTP_PROXY'],
} as const;
const NO_PROXY_VARS = ['no_proxy', 'NO_PROXY'] as const;
/** curl's fallback when no scheme-specific variable is set; undici itself ignores it. */
const ALL_PROXY_VARS = ['all_proxy', 'ALL_PROXY'] as const;

/**
 * Picks the proxy for the API host as curl does: `--proxy` wins; else HTTPS_PROXY (or HTTP_PROXY
 * for an http:// base URL), else ALL_PROXY; unless NO_PROXY names the host. An explicit --proxy
 * ignores NO_PROXY.
 */
export function resolveProxy(baseUrl: URL, flagValue: string | undefined, env: Environment): ProxyDecision {
  if (flagValue !== undefined) {
    const proxy = parseProxyUrl('--proxy', flagValue);
    return { proxy, explanation: `through ${proxy.display} (--proxy)` };
  }
  const vars = PROXY_VARS[baseUrl.protocol as keyof typeof PROXY_VARS] ?? PROXY_VARS['https:'];
  const name = vars.find((v) => env.get(v) !== undefined) ?? ALL_PROXY_VARS.find((v) => env.get(v) !== undefined);
  if (name === undefined) return { proxy: undefined, explanation: `direct (no ${[...vars, 'ALL_PROXY'].filter((v) => v === v.toUpperCase()).join(', ')} set)` };
  const noProxyName = NO_PROXY_VARS.find((v) => env.get(v) !== undefined);
  const noProxy = noProxyName === undefined ? undefined : env.get(noProxyName);
  if (noProxy !== undefined && matchesNoProxy(baseUrl, noProxy)) {
    return { proxy: undefined, explanation: `direct (${noProxyName} matches ${baseUrl.host}, so ${name} is not used)` };
  }
  const proxy = parseProxyUrl(name, env.get(name) as string);
  return { proxy, explanation: `through ${proxy.display} (${name})` };
}

/**
 * Parses a proxy URL as curl accepts it: a value without a scheme (`proxy:3128`) means
 * http://. HTTP proxies are http:// or https://; SOCKS5 proxies socks5://, socks5h:// or
 * socks:// (host names always go to the proxy unresolved, which is what socks5h means).
 */
export function parseProxyUrl(source: string, raw: string): ProxySettings {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`${source} ${JSON.stringify(maskUserinfo(text))} is not a proxy URL; give one such as http://proxy.example:3128`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const socks = scheme === 'socks5' || scheme === 'socks5h' || scheme === 'socks';
  if (scheme !== 'http' && scheme !== 'https' && !socks) {
    throw new UsageError(`${source} uses ${scheme}://, which bgprobe cannot use; give an http://, https:// or socks5:// proxy URL`);
  }
  if (socks && scheme !== 'socks5') {
    // WHATWG URL keeps a special scheme's parts only when re-parsed with the new scheme.
    url = new URL(`socks5:${url.href.slice(url.protocol.length)}`);
  }
  if (!url.hostname) throw new UsageError(`${source} ${JSON.stringify(maskUserinfo(text))} names no host; give one such as http://proxy.example:3128`);
  const display = socks ? displayProxy(url).replace(/^socks5:/, `${scheme}:`) : displayProxy(url);
  return Object.freeze({ kind: socks ? 'socks5' : 'http', url, display, source });
}

/** `http://user:***@host:port`: the user stays visible (it helps), the password never does. */
function displayProxy(url: URL): string {
  const userinfo = url.username ? `${url.username}${url.password ? ':***' : ''}@` : '';
  return `${url.protocol}//${userinfo}${url.host}`;
}

function maskUserinfo(text: string): string {
  return text.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@').replace(/^([^/@:]*):[^/@]*@/, '$1:***@');
}

/**
 * NO_PROXY as undici and curl read it: a comma or space separated list; `*` matches everything
 * only when it is the whole value (`example.com,*` bypasses nothing more than example.com); `example.com`, `.example.com` and `*.example.com` match the host and its
 * subdomains; `host:port` matches that port only.
 */
export function matchesNoProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  if (noProxy.trim() === '*') return true;
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry || entry === '*') continue;
    // A bare IPv6 address has colons but no port; `[::1]:8080` has both.
    const bareIpv6 = !entry.startsWith('[') && (entry.match(/:/g)?.length ?? 0) > 1;
    const match = bareIpv6 ? undefined : /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[(.*)\](:\d+)?$/, '$1$2'));
    const name = (match?.[1] ?? entry).replace(/^\*?\./, '');
    const entryPort = match?.[2];
    if (entryPort !== undefined && entryPort !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}
