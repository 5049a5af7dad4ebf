import { parseEnvelope } from '../api/error-envelope.js';
import { pageTitle } from '../errors.js';
import { htmlText } from './page-text.js';
import { directProxyAuthAdvice, proxyAuthAdvice } from './proxy-answers.js';
/**
 * Who answered an HTTP request: the OpenAI API, a proxy, or another server (a wrong base URL,
 * a mock, a captive portal, a static file server). A status code alone cannot tell: the API
 * sends 401 and 403 too. The API sends its JSON error envelope and `x-request-id: req_...` /
 * `openai-*` headers; proxies send their own policy headers; another server sends neither.
 * check, run, poll and cancel all read answers through this one classifier.
 */
export type Answerer = 'api' | 'proxy' | 'other';

export interface AnswerOrigin {
  readonly by: Answerer;
  /** What gave it away, for the diagnosis line: `x-proxy-error: blocked-by-method-policy`. */
  readonly evidence: string;
}

/** Headers a proxy or firewall sets on its own answers; any of them outweighs API-looking markers. */
const PROXY_HEADERS = ['x-proxy-error', 'proxy-authenticate', 'x-squid-error', 'cf-mitigated', 'x-deny-reason'] as const;

/** `server:` values of proxies seen in sandboxes (Envoy in Codex cloud, Squid, proxy-chain, ...). */
const PROXY_SERVERS = /\b(envoy|squid|proxychain|mitmproxy|zscaler|bluecoat|fortigate|privoxy|tinyproxy)\b/i;

/**
 * Classifies one answer. `proxied`: a proxy is configured, so an answer without the API's
 * marks came from it (or from beyond it); without one, such an answer is another server's.
 */
export function whoAnswered(status: number, headers: Readonly<Record<string, string>>, body: string, proxied = false): AnswerOrigin {
  for (const name of PROXY_HEADERS) {
    const value = headers[name];
    if (value !== undefined) return { by: 'proxy', evidence: `${name}: ${value.slice(0, 80)}` };
  }
  const server = headers['server'];
  if (server !== undefined && PROXY_SERVERS.test(server)) return { by: 'proxy', evidence: `server: ${server.slice(0, 80)}` };
  if (status === 407) return { by: 'proxy', evidence: 'HTTP 407 Proxy Authentication Required' };
  const api = apiMark(headers);
  if (api !== undefined) return { by: 'api', evidence: api };
  if (parseEnvelope(body) !== undefined) return { by: 'api', evidence: 'OpenAI error envelope' };
  // A proxy that forwards the API's answer adds Via too, so Via counts only without the API's marks.
  const via = headers['via'];
  if (via !== undefined) return { by: 'proxy', evidence: `via: ${via.slice(0, 80)}` };
  const type = headers['content-type']?.split(';')[0]?.trim();
  let evidence: string;
  if (isHtml(type, body)) {
    const title = pageTitle(body);
    evidence = title ? `an HTML page titled ${JSON.stringify(title)}` : 'an HTML page';
  } else {
    evidence = type ? `${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type} body without the API's envelope or headers` : "no API envelope or headers";
  }
  return { by: proxied ? 'proxy' : 'other', evidence };
}

/**
 * The API's own headers, when the answer carries one: an `x-request-id` starting `req_`
 * (Envoy stamps its own, a UUID, on every answer) or any `openai-*` header.
 */
export function apiMark(headers: Readonly<Record<string, string>>): string | undefined {
  const requestId = headers['x-request-id'];
  if (requestId?.startsWith('req_')) return `x-request-id ${requestId.slice(0, 60)}`;
  const openai = Object.keys(headers).find((name) => name.startsWith('openai-'));
  return openai === undefined ? undefined : `${openai} header`;
}

export function isHtml(contentType: string | undefined, body: string): boolean {
  return contentType === 'text/html' || contentType === 'application/xhtml+xml' || /^\s*<(!doctype|html)/i.test(body);
}

/** How many characters of an answer's own words a diagnosis quotes. */
const QUOTE_CHARS = 160;

/**
 * The answer's own words in one short line: the API envelope's message, an HTML page reduced
 * to its text (title first), or the body as it is; capped, so a page cannot flood a diagnosis.
 */
export function answerWords(body: string, contentType: string | undefined): string {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  let text: string;
  const envelope = parseEnvelope(body)?.message;
  if (envelope !== undefined) text = envelope;
  else if (isHtml(type, body)) text = htmlText(body.slice(0, 65_536));
  else text = body.slice(0, 4096);
  // Control characters and line breaks fold into spaces: the quote is one printable line.
  text = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (text.length === 0) return '(empty body)';
  return text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}...` : text;
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
  /** The base URL the call was sent to, for advice about a wrong one. */
  readonly baseUrl?: string | undefined;
  /** Whether the configured proxy's URL carries credentials: a 407 then means they were rejected. */
  readonly proxyCredentials?: boolean | undefined;
  /** An HTTP(S) proxy carries this call: without one, a 407 came from something nobody configured. */
  readonly httpProxy?: boolean | undefined;
  /** The name of an earlier call on this base URL that the API itself answered: the base URL then leads to the API. */
  readonly apiAnswered?: string | undefined;
}

/**
 * The one-line diagnosis of an answer that did not come from the API: who sent it, its own
 * words, and the fix that fits who it was (a proxy's policy, a page in between, a wrong base URL).
 */
export function notFromApi(call: CallDescription, status: number, origin: AnswerOrigin, words: string, html: boolean, headers: Readonly<Record<string, string>> = {}): string {
  const said = `: "${words}"`;
  // No HTTP proxy was configured, so "the proxy" would name one the user never set: say what asked, and where.
  if (status === 407 && call.httpProxy !== true) return `${directProxyAuth(call, origin.evidence, headers)}; it said${said}`;
  if (origin.by === 'proxy') {
    if (status >= 400 && status < 500) return `${blockedByIntermediary(call, status, origin.evidence, headers)}; the proxy said${said}`;
    if (status >= 500) return `${call.name} (${call.method} ${call.path}) got HTTP ${status} from a proxy (${origin.evidence}), not from the API${said}; the proxy could not reach ${call.host} or gave up on it`;
    return `${call.name} (${call.method} ${call.path}) was answered HTTP ${status} by the proxy (${origin.evidence}), not by the API${said}; the proxy answers in the API's place (a captive portal or a login page): sign in, or ask for ${call.host} to be allowed`;
  }
  const who = `${call.name} (${call.method} ${call.path}) was answered HTTP ${status} by`;
  if (html && !NOT_SERVED.has(status)) {
    return `${who} a web page that is not the OpenAI API (${origin.evidence})${said}; something between this machine and ${call.host} answers in the API's place (a captive portal, a login or block page): sign in or ask for ${call.host} to be allowed, or check --base-url`;
  }
  // One base URL leads to one server: once the API itself answered there, an unmarked answer came from something in between.
  if (call.apiAnswered !== undefined) {
    const proven = `${who} something in between, not the API (${origin.evidence})${said}; the API itself answered ${call.apiAnswered} on this base URL`;
    if (status >= 500) return `${proven}, so a gateway between this machine and the API could not reach it or failed`;
    return `${proven}, so a filter between this machine and the API refuses ${call.method} ${call.route}: the egress policy must allow ${call.method} ${call.route} on ${call.host}`;
  }
  if (status >= 500) {
    return `${who} a server that is not the OpenAI API (${origin.evidence})${said}; if a gateway stands in front of ${call.host}, it could not reach the API; else ${baseUrlAdvice(call)}`;
  }
  // This answer alone cannot tell a wrong base URL from a filter on the way that refuses this call: check probes the others.
  return `${who} a server that is not the OpenAI API (${origin.evidence})${said}; either ${baseUrlDoubt(call)}, or something between this machine and ${call.host} refuses ${call.method} ${call.route}: \`bgprobe check\` tells which`;
}

/** The base URL as one of two explanations: "the base URL is wrong (it should end in /v1 ...)" or "X does not lead to the API". */
function baseUrlDoubt(call: CallDescription): string {
  const fixed = call.baseUrl === undefined ? undefined : withV1(call.baseUrl);
  return fixed === undefined ? baseUrlAdvice(call) : `the base URL is wrong (it should end in /v1: try --base-url ${fixed} (now ${call.baseUrl}))`;
}

/** Statuses by which a server says it does not serve this path or method: a wrong server, not a page put in the way. */
export const NOT_SERVED: ReadonlySet<number> = new Set([404, 405, 501]);

/** "the base URL should end in /v1" when it does not, else: it does not lead to the API. */
export function baseUrlAdvice(call: CallDescription): string {
  const base = call.baseUrl;
  if (base !== undefined) {
    const fixed = withV1(base);
    if (fixed !== undefined) return `the base URL should end in /v1: try --base-url ${fixed} (now ${base})`;
    return `--base-url (or OPENAI_BASE_URL) ${base} does not lead to the OpenAI API or a server that speaks it`;
  }
  return 'check --base-url (or OPENAI_BASE_URL): it does not lead to the OpenAI API';
}

/** The base URL with /v1 added when it lacks it (the commonest wrong base URL); undefined when it has it. */
function withV1(base: string): string | undefined {
  const url = new URL(base);
  const path = url.pathname.replace(/\/+$/, '');
  return path.endsWith('/v1') ? undefined : `${url.origin}${path}/v1`;
}

/** A 407 with no HTTP proxy in use: something on the direct path, or the server at the base URL, asked for proxy credentials. */
function directProxyAuth(call: CallDescription, evidence: string, headers: Readonly<Record<string, string>>): string {
  return `${call.name} (${call.method} ${call.path}) was answered HTTP 407 (${evidence}) with no HTTP proxy in use, not by the API, which never asks for proxy credentials: something on the way to ${call.host} (a transparent proxy) or the server at the base URL wants them; ${directProxyAuthAdvice(headers, call.baseUrl)}`;
}

/** `create was blocked by a proxy, HTTP 403 (...), not an answer from the API: the egress policy must allow POST /v1/responses on api.openai.com` */
function blockedByIntermediary(call: CallDescription, status: number, evidence: string, headers: Readonly<Record<string, string>>): string {
  // A 407 gets the same advice as one to CONNECT: missing or rejected credentials, and the scheme asked for.
  if (status === 407) return `${call.name} was refused by a proxy, HTTP 407 (${evidence}), not an answer from the API: ${proxyAuthAdvice(headers, call.proxyCredentials === true)}`;
  return `${call.name} was blocked by a proxy, HTTP ${status} (${evidence}), not an answer from the API: the egress policy must allow ${call.method} ${call.route} on ${call.host}`;
}
