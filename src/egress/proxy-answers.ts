import { oneLine } from '../text.js';
import type { CallDescription } from './answer-origin.js';
import { htmlText } from './page-text.js';

/**
 * What a proxy said when it refused a tunnel, in its own words, and what to do about it. Shared
 * by `check` (which reads the whole answer on a raw socket) and `run` (which sees only the
 * headers undici publishes), so both give the same diagnosis.
 */

/** The longest piece of a proxy's page quoted in a diagnosis. */
const QUOTE_CAP = 200;

/** Authentication schemes credentials in a proxy URL cannot satisfy: undici (and bgprobe) send Basic only. */
const NON_BASIC_SCHEMES = /^(ntlm|negotiate|digest|kerberos)$/i;

/** The schemes a 407 asks for, from its Proxy-Authenticate header(s): `NTLM`, `Basic realm="x"` ... */
export function authSchemes(header: string | undefined): string[] {
  if (!header) return [];
  // Several challenges arrive comma-joined; a scheme is a token not followed by `=` (an auth-param is).
  const schemes: string[] = [];
  for (const piece of header.split(',')) {
    const match = /^\s*([A-Za-z][\w-]*)(?:\s|$)/.exec(piece);
    if (match?.[1] && !schemes.includes(match[1])) schemes.push(match[1]);
  }
  return schemes;
}

/** The advice for a 407: missing or rejected credentials, and whether URL credentials can work at all. */
export function proxyAuthAdvice(headers: Readonly<Record<string, string>>, credentialsGiven: boolean, user?: string): string {
  const schemes = authSchemes(headers['proxy-authenticate']);
  const named = schemes.length > 0 ? `it asks for ${schemes.join(', ')} (Proxy-Authenticate)` : 'it names no scheme (no Proxy-Authenticate header)';
  const basicOffered = schemes.length === 0 || schemes.some((s) => /^basic$/i.test(s));
  if (!basicOffered && schemes.some((s) => NON_BASIC_SCHEMES.test(s))) {
    return `the proxy wants credentials and ${named}, which credentials in a proxy URL cannot satisfy (bgprobe and undici send Basic only): run a local authenticating proxy such as px or cntlm, and point --proxy or HTTPS_PROXY at it`;
  }
  if (credentialsGiven) {
    return `the proxy rejected the credentials in the proxy URL${user ? ` (user ${user})` : ''}; ${named}: check the user name and password (percent-encode @ : / and % in them)`;
  }
  return `the proxy wants credentials and ${named}: put them in the proxy URL (http://user:password@proxy:port)`;
}

/**
 * The advice for a 407 nobody's proxy setting explains (no HTTP proxy configured): name that
 * proxy explicitly, with credentials, or fix a base URL that points at a proxy.
 */
export function directProxyAuthAdvice(headers: Readonly<Record<string, string>>, baseUrl: string | undefined): string {
  const schemes = authSchemes(headers['proxy-authenticate']);
  const named = schemes.length > 0 ? `it asks for ${schemes.join(', ')} (Proxy-Authenticate)` : 'it names no scheme (no Proxy-Authenticate header)';
  const variable = baseUrl?.startsWith('http:') ? 'HTTP_PROXY' : 'HTTPS_PROXY';
  const base = `or check --base-url${baseUrl ? ` (now ${baseUrl})` : ''}: it may point at a proxy instead of the API`;
  if (!schemes.some((s) => /^basic$/i.test(s)) && schemes.some((s) => NON_BASIC_SCHEMES.test(s))) {
    return `${named}, which credentials in a proxy URL cannot satisfy: run a local authenticating proxy such as px or cntlm in front of it and point --proxy or ${variable} at that; ${base}`;
  }
  return `${named}: configure that proxy explicitly, with its address and credentials (--proxy http://user:password@host:port, or ${variable}; ask for its address if it is transparent), ${base}`;
}

/** A page reduced to its text (answer-origin.ts's one rule), as one line, capped. */
export function pageText(body: string): string {
  const line = oneLine(htmlText(body.slice(0, 65_536))).replace(/\s+/g, ' ').trim();
  return line.length > QUOTE_CAP ? `${line.slice(0, QUOTE_CAP - 3)}...` : line;
}

/** The proxy's own reason: its policy headers, then the text of its page. */
export function refusalReason(status: number, statusText: string, headers: Readonly<Record<string, string>>, body: string): string {
  const parts = ['x-proxy-error', 'x-squid-error', 'proxy-authenticate', 'server']
    .filter((n) => headers[n] !== undefined)
    .map((n) => `${n}: ${oneLine(headers[n] as string).slice(0, 80)}`);
  const said = body.trim() ? pageText(body) : '';
  const head = `HTTP ${status}${statusText ? ` ${oneLine(statusText).slice(0, 60)}` : ''}`;
  return `${head}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}${said ? `: "${said}"` : ''}`;
}

/** What to do about a CONNECT refusal, by status. */
export function refusalHint(status: number, headers: Readonly<Record<string, string>>, target: string, credentialsGiven: boolean, user?: string): string {
  if (status === 407) return proxyAuthAdvice(headers, credentialsGiven, user);
  if (status === 502 || status === 503 || status === 504) {
    return `the proxy itself could not reach ${target} (its answer says why): check the proxy's own DNS and egress, or whether ${target} is the right host`;
  }
  return `the egress policy must allow ${target}; ask for it to be added to the proxy's allowlist`;
}

/** A CONNECT refusal as `run` reports it: the same reason and hint `check` gives. */
export function tunnelRefusedLine(call: CallDescription, reason: string, hint: string): string {
  return `${call.name} (${call.method} ${call.path}): the proxy refused CONNECT ${call.host}: ${reason}, not an answer from the API; ${hint}`;
}

/** A proxy that closes (or resets) the connection instead of answering CONNECT. */
export function droppedTunnel(target: string, proxy = 'the proxy', times = 1): { message: string; hint: string } {
  return {
    message: `${proxy} closed the connection${times > 1 ? ` ${times} times` : ''} without answering CONNECT ${target} (it dropped the tunnel)`,
    hint: `the proxy cannot reach ${target} or refuses it without saying so: check its logs and its allowlist`,
  };
}

/** An https:// proxy whose own certificate this run does not trust. */
export function untrustedProxyCertificate(display: string, code: string): string {
  return `the https:// proxy ${display} presented a certificate this run does not trust (${code}): trust the proxy's CA with --ca-file (or --system-ca when it is in the OS bundle), or write the proxy URL with http:// if it also speaks plain HTTP`;
}

/** TLS error codes that mean "untrusted or wrong certificate", as opposed to "not TLS at all". */
export const CERTIFICATE_CODES = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_|ERR_TLS_CERT_ALTNAME_INVALID)/;
