import { pageTitle } from '../errors.js';
/**
 * Who answered an HTTP request: the API itself, or something in between (a proxy, a firewall,
 * a captive portal). A status code alone cannot tell: the API sends 401 and 403 too. The API
 * always sends its JSON error envelope and `x-request-id` / `openai-*` headers; proxies send
 * their own policy headers, plain text or HTML.
 */
export type Answerer = 'api' | 'intermediary';

export interface AnswerOrigin {
  readonly by: Answerer;
  /** What gave it away, for the diagnosis line: `x-proxy-error: blocked-by-method-policy`. */
  readonly evidence: string;
}

/** Headers a proxy or firewall sets on its own answers; any of them outweighs API-looking markers. */
const PROXY_HEADERS = ['x-proxy-error', 'proxy-authenticate', 'x-squid-error', 'cf-mitigated', 'x-deny-reason'] as const;

/** `server:` values of proxies seen in sandboxes (Envoy in Codex cloud, Squid, proxy-chain, ...). */
const PROXY_SERVERS = /\b(envoy|squid|proxychain|mitmproxy|zscaler|bluecoat|fortigate|privoxy|tinyproxy)\b/i;

export function whoAnswered(status: number, headers: Readonly<Record<string, string>>, body: string): AnswerOrigin {
  for (const name of PROXY_HEADERS) {
    const value = headers[name];
    if (value !== undefined) return { by: 'intermediary', evidence: `${name}: ${value.slice(0, 80)}` };
  }
  const server = headers['server'];
  if (server !== undefined && PROXY_SERVERS.test(server)) return { by: 'intermediary', evidence: `server: ${server.slice(0, 80)}` };
  if (status === 407) return { by: 'intermediary', evidence: 'HTTP 407 Proxy Authentication Required' };
  if (hasEnvelope(body)) return { by: 'api', evidence: 'OpenAI error envelope' };
  // Envoy stamps its own x-request-id (a UUID) on every answer; the API's start with req_.
  const requestId = headers['x-request-id'];
  if (requestId?.startsWith('req_')) return { by: 'api', evidence: `x-request-id ${requestId}` };
  const openai = Object.keys(headers).find((name) => name.startsWith('openai-'));
  if (openai !== undefined) return { by: 'api', evidence: `${openai} header` };
  const type = headers['content-type']?.split(';')[0]?.trim();
  if (type === 'text/html' || /^\s*<(!doctype|html)/i.test(body)) {
    const title = pageTitle(body);
    return { by: 'intermediary', evidence: title ? `an HTML page titled ${JSON.stringify(title)}` : 'an HTML page' };
  }
  return { by: 'intermediary', evidence: type ? `a ${type} body without the API's envelope or headers` : "no API envelope or headers" };
}

function hasEnvelope(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    const error = (parsed as { error?: { message?: unknown } } | null)?.error;
    return typeof error?.message === 'string';
  } catch {
    return false;
  }
}

/** The names a diagnosis uses for the three calls. */
export interface CallDescription {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  /** The path as the allowlist names it, with `{response_id}` rather than one id. */
  readonly route: string;
  /** host[:port] of the API, as the allowlist must name it. */
  readonly host: string;
}

/** `create was blocked by a proxy, HTTP 403 (...), not an answer from the API: the egress policy must allow POST /v1/responses on api.openai.com` */
export function blockedByIntermediary(call: CallDescription, status: number, evidence: string): string {
  if (status === 407) {
    return `${call.name} was refused by a proxy that wants credentials, HTTP 407 (${evidence}), not an answer from the API: put them in the proxy URL (http://user:password@proxy:port)`;
  }
  return `${call.name} was blocked by a proxy, HTTP ${status} (${evidence}), not an answer from the API: the egress policy must allow ${call.method} ${call.route} on ${call.host}`;
}

/** The proxy refused the CONNECT tunnel itself: the host is not on its allowlist, or it wants credentials. */
export function tunnelRefused(call: CallDescription, status: number, evidence: string | undefined): string {
  const why = evidence ? ` (${evidence})` : '';
  if (status === 407) {
    return `${call.name} was refused by the proxy at CONNECT, HTTP 407${why}, not an answer from the API: the proxy wants credentials; put them in the proxy URL (http://user:password@proxy:port)`;
  }
  return `${call.name} was blocked by the proxy at CONNECT, HTTP ${status}${why}, not an answer from the API: the egress policy must allow ${call.host} (port ${portOf(call.host)})`;
}

function portOf(host: string): string {
  return /:(\d+)$/.exec(host)?.[1] ?? '443';
}
