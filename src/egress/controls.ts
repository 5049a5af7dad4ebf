import type { Answerer } from './answer-origin.js';
/**
 * The egress controls people meet in sandboxes and CI, recognised from what they answer, each
 * with the fix in that control's own terms. One table, one pure function: `check` and `run`
 * feed it what they observed and print the row it names. Every row says where its facts come
 * from; a mark of UNCONFIRMED means the answer was inferred, not seen (the sources are
 * summarised, with links, in ../shared/reference/egress-facts.md and field-2026.md).
 * docs/outbound-network-access.md has a section per cause code; a test keeps them in step.
 */

/** Where on the way to the API the observation was made. */
export type ObservedStage = 'dns' | 'tcp' | 'socks' | 'connect' | 'tls' | 'http';

/** What was seen, as plain data: recorded from a real exchange, or written down from a report. */
export interface Observation {
  readonly stage: ObservedStage;
  /** HTTP status (answers to CONNECT or to a request), or the SOCKS5 reply code at the socks stage. */
  readonly status?: number | undefined;
  /** Header names in lower case. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** The first bytes of the answer's body. */
  readonly body?: string | undefined;
  /** Node's or undici's error code (EHOSTUNREACH, UND_ERR_SOCKS5_REPLY_2), `ETIMEDOUT` for no answer within --timeout, or the TLS verify code. */
  readonly errorCode?: string | undefined;
  /** DNS: the address the API host resolved to. */
  readonly resolvedAddress?: string | undefined;
  /** TLS: the organisation (else the common name) of the issuer of the certificate presented for the API host. */
  readonly certificateIssuer?: string | undefined;
  readonly proxyKind?: 'none' | 'http' | 'socks' | undefined;
  /** HTTP: the method of the request that got this answer. */
  readonly method?: string | undefined;
  /** HTTP: who sent the answer (src/egress/answer-origin.ts). */
  readonly answeredBy?: Answerer | undefined;
  /** HTTP: a GET to the same host was answered by the API itself (check's retrieve probe). */
  readonly getReachedApi?: boolean | undefined;
  /** HTTP: a POST to the same host was answered by the API itself (check's create or cancel probe): methods are then not what is limited. */
  readonly postReachedApi?: boolean | undefined;
  /** How long bgprobe waited for an answer that never came (--timeout), in milliseconds. */
  readonly waitedMs?: number | undefined;
}

/**
 * The control that blocked the way, by name, with its fix. `cause` is stable: scripts read it from --json.
 * A match with `alternatives` is only a possible cause: what was seen (`observed`) looks the same
 * when something else is at fault, so it is never reported as "blocked by".
 */
export interface ControlMatch {
  readonly cause: string;
  readonly control: string;
  readonly fix: string;
  readonly source: string;
  /** What was seen, in words, when it does not single this control out. */
  readonly observed?: string | undefined;
  /** What else produces exactly the same observation, when it does not single this control out. */
  readonly alternatives?: string | undefined;
}

/** The API host and port the fix must name. */
export interface Target {
  readonly host: string;
  readonly port: number;
}

interface ControlRow {
  readonly cause: string;
  readonly control: string | ((o: Observation) => string);
  readonly source: string;
  readonly matches: (o: Observation) => boolean;
  readonly fix: (t: Target, o: Observation) => string;
  /** Set on rows named from an observation that other causes produce too: the row is then a possible cause, not a finding. */
  readonly unconfirmed?: {
    readonly observed: (t: Target, o: Observation) => string;
    readonly alternatives: (t: Target, o: Observation) => string;
  };
}

/** StepSecurity harden-runner answers a blocked name with this address; bgprobe never connects to it. */
export const HARDEN_RUNNER_SINKHOLE = '54.185.253.63';

const CODEX_PROXY_SOURCE = 'openai/codex codex-rs/network-proxy/README.md and src/responses.rs [src]';
const CODEX_CONFIG = 'the [network] table of ~/.codex/config.toml ([network_proxy.policy] in older Codex versions)';

function proxyError(value: string): (o: Observation) => boolean {
  return (o) => (o.stage === 'connect' || o.stage === 'http') && o.headers?.['x-proxy-error']?.trim().toLowerCase() === value;
}

const TRUST_ERRORS = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'DEPTH_ZERO_SELF_SIGNED_CERT']);

/** Issuer organisations of TLS-inspection products, as their CAs name themselves; matched case-insensitively. */
const INSPECTION_VENDORS: readonly (readonly [RegExp, string])[] = [
  [/zscaler/i, 'Zscaler'],
  [/netskope/i, 'Netskope'],
  [/palo alto/i, 'Palo Alto Networks'],
  [/fortinet|fortigate/i, 'Fortinet FortiGate'],
  [/blue ?coat|symantec/i, 'Symantec (Blue Coat)'],
  [/forcepoint|websense/i, 'Forcepoint'],
  [/cisco|umbrella/i, 'Cisco Umbrella'],
  [/sophos/i, 'Sophos'],
  [/check ?point/i, 'Check Point'],
  [/mitmproxy/i, 'mitmproxy'],
];

function inspectionVendor(issuer: string | undefined): string | undefined {
  return issuer === undefined ? undefined : INSPECTION_VENDORS.find(([pattern]) => pattern.test(issuer))?.[1];
}

const HOST_FIREWALL_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);

/** Cloudflare's challenge page: its header, or the markers of its HTML when the header was stripped. */
function cloudflareChallenge(o: Observation): boolean {
  if (o.stage !== 'http' && o.stage !== 'connect') return false;
  if (o.headers?.['cf-mitigated']?.toLowerCase() === 'challenge') return true;
  return /<title>\s*Just a moment\.\.\.\s*<\/title>|\/cdn-cgi\/challenge-platform\/|window\._cf_chl_opt/i.test(o.body ?? '');
}

/** In order: the first row that matches names the control. Specific marks come before inferences. */
export const CONTROLS: readonly ControlRow[] = Object.freeze([
  {
    cause: 'codex_sandbox_allowlist',
    control: 'Codex sandbox proxy (host not on its allowlist)',
    source: CODEX_PROXY_SOURCE,
    matches: proxyError('blocked-by-allowlist'),
    fix: (t) => `add "${t.host}" to allowed_domains in ${CODEX_CONFIG}`,
  },
  {
    cause: 'codex_sandbox_denylist',
    control: 'Codex sandbox proxy (host on its denylist)',
    source: CODEX_PROXY_SOURCE,
    matches: proxyError('blocked-by-denylist'),
    fix: (t) => `remove the denied_domains entry that matches "${t.host}" in ${CODEX_CONFIG}; a denylist entry wins over the allowlist`,
  },
  {
    cause: 'codex_sandbox_method',
    control: 'Codex sandbox proxy (limited mode: GET, HEAD and OPTIONS only)',
    source: CODEX_PROXY_SOURCE,
    matches: proxyError('blocked-by-method-policy'),
    fix: () => `set mode = "full" in ${CODEX_CONFIG}; background mode needs POST to create and cancel`,
  },
  {
    cause: 'codex_sandbox_mitm_required',
    control: 'Codex sandbox proxy (limited mode refuses HTTPS tunnels without its MITM)',
    source: CODEX_PROXY_SOURCE,
    matches: proxyError('blocked-by-mitm-required'),
    fix: () => `set mode = "full" in ${CODEX_CONFIG}; with its MITM enabled, limited mode would still refuse the POST that creates a response`,
  },
  {
    cause: 'codex_sandbox_policy',
    control: 'Codex sandbox proxy (its network policy)',
    source: CODEX_PROXY_SOURCE,
    matches: proxyError('blocked-by-policy'),
    fix: (t) => `allow "${t.host}" in ${CODEX_CONFIG} (allowed_domains, denied_domains, mode); the proxy's admin API lists its blocks at /blocked`,
  },
  {
    cause: 'squid_denied',
    control: (o) => `squid proxy (${o.headers?.['x-squid-error']?.split(' ')[0] ?? 'X-Squid-Error'})`,
    source: 'squid error pages set X-Squid-Error (squid-cache.org, src/errorpage.cc) [src]; reproduced with squid 5.7 [measured, test/controls-live.test.ts]',
    // squid's 5xx pages (ERR_DNS_FAIL, ERR_CONNECT_FAIL, ERR_READ_TIMEOUT) say it could not reach the host: not a denial.
    matches: (o) => (o.stage === 'connect' || o.stage === 'http') && o.headers?.['x-squid-error'] !== undefined && !(o.status !== undefined && o.status >= 500),
    fix: (t) => `allow CONNECT to ${t.host}:${t.port} with an acl and an http_access allow line above the deny rule in squid.conf: bgprobe policy --for squid prints them`,
  },
  {
    cause: 'cloudflare_challenge',
    control: 'Cloudflare challenge page',
    source: "openai/codex#39324, #21735, #27446 [report]; the cf-mitigated header: Cloudflare's docs [doc]",
    matches: cloudflareChallenge,
    fix: (_t, o) =>
      `the request reached Cloudflare in front of the API, which asks for a browser check no API client can pass (it targets VPN and data-centre addresses): use another egress address, or give OpenAI support the cf-ray${o.headers?.['cf-ray'] ? ` ${o.headers['cf-ray']}` : ''}`,
  },
  {
    cause: 'envoy_connect_refused',
    control: "Envoy egress proxy (Codex cloud's, in the reports)",
    source: 'openai/codex#20928 [report]; https://developers.openai.com/codex/cloud/internet-access [doc]; what Envoy answers beyond server: envoy is UNCONFIRMED',
    matches: (o) => o.stage === 'connect' && o.status === 403 && /\benvoy\b/i.test(o.headers?.['server'] ?? ''),
    fix: (t) => `Codex cloud: turn the environment's agent internet access On and add ${t.host} to its domain allowlist (the "Common dependencies" preset does not include it); another Envoy: allow CONNECT to ${t.host}:${t.port}`,
  },
  {
    cause: 'methods_get_only',
    control: 'allowed HTTP methods limited to GET, HEAD and OPTIONS',
    source: 'https://developers.openai.com/codex/cloud/internet-access [doc]; what Codex cloud answers to a refused method is UNCONFIRMED',
    matches: (o) => o.stage === 'http' && o.method === 'POST' && o.answeredBy !== undefined && o.answeredBy !== 'api' && (o.status === 403 || o.status === 405) && o.getReachedApi === true && o.postReachedApi !== true,
    fix: (t) => `Codex cloud: set the environment's allowed HTTP methods to All, or allow POST to ${t.host}`,
  },
  {
    cause: 'harden_runner_sinkhole',
    control: 'StepSecurity harden-runner (egress-policy: block)',
    source: 'step-security/agent source: a blocked name resolves to its sinkhole 54.185.253.63 [src, field-2026.md]',
    matches: (o) => o.stage === 'dns' && o.resolvedAddress === HARDEN_RUNNER_SINKHOLE,
    fix: (t) => `add ${t.host}:${t.port} to the step's allowed-endpoints: bgprobe policy --for harden-runner prints it`,
  },
  {
    cause: 'host_firewall',
    control: (o) => `host firewall (iptables or ipset ${o.errorCode === 'EHOSTUNREACH' ? 'REJECT' : 'rule'}, as a devcontainer's init-firewall.sh sets up)`,
    source: 'anthropics/claude-code PR #40322: REJECT surfaces as EHOSTUNREACH [src]; ENETUNREACH, EACCES and EPERM on connect from Linux semantics, UNCONFIRMED (egress-facts.md §7)',
    // Direct connections only: through a proxy, the refused connection was to the proxy, not to the API host the fix names.
    matches: (o) => o.stage === 'tcp' && (o.proxyKind ?? 'none') === 'none' && o.errorCode !== undefined && HOST_FIREWALL_CODES.has(o.errorCode),
    fix: (t) => `add ${t.host} to the firewall's allowed domains and run its script again (bgprobe policy --for devcontainer); a list resolved to IP addresses once breaks when the API's addresses rotate`,
  },
  {
    cause: 'socks_ruleset',
    control: 'SOCKS5 proxy ruleset',
    source: 'RFC 1928 §6: reply 2, connection not allowed by ruleset [doc]; undici UND_ERR_SOCKS5_REPLY_2 [src, field-2026.md]',
    matches: (o) => o.stage === 'socks' && (o.status === 2 || o.errorCode === 'UND_ERR_SOCKS5_REPLY_2'),
    fix: (t) => `allow ${t.host}:${t.port} in the SOCKS proxy's rules (the Codex and Claude Code sandboxes apply their domain allowlist to SOCKS as to HTTP)`,
  },
  {
    cause: 'silent_tunnel',
    control: "a sandbox proxy that holds a denied host's tunnel open in silence, as Claude Code's does",
    source: 'anthropics/claude-code#40213 [report]; a slow or dead upstream looks the same from the client, so this is only ever a possible cause',
    matches: (o) => o.stage === 'tls' && o.proxyKind !== undefined && o.proxyKind !== 'none' && o.errorCode === 'ETIMEDOUT',
    fix: (t) => `allow ${t.host} in the sandbox's network allowlist`,
    // The proxy's CONNECT 200 says only that it accepted the tunnel: whether it then reached the API is not seen.
    unconfirmed: {
      observed: (t, o) => `the proxy accepted the tunnel to ${t.host}:${t.port} (CONNECT 200), then nothing came back through it${o.waitedMs === undefined ? '' : ` in ${o.waitedMs / 1000} s`}`,
      alternatives: (t) => `a slow or dead upstream: the proxy's own connection to ${t.host}:${t.port} hanging, or the API slow to answer (try a longer --timeout)`,
    },
  },
  {
    cause: 'tls_interception',
    control: (o) => {
      const vendor = inspectionVendor(o.certificateIssuer);
      return vendor ? `${vendor} TLS inspection` : `TLS-intercepting proxy or private CA (issuer "${o.certificateIssuer ?? 'unknown'}")`;
    },
    source: 'egress-facts.md §0 point 10 and §5 [measured]; vendors in issuers: field-2026.md [H/M]',
    matches: (o) => o.stage === 'tls' && o.certificateIssuer !== undefined && o.errorCode !== undefined && TRUST_ERRORS.has(o.errorCode),
    fix: (_t, o) => {
      const vendor = inspectionVendor(o.certificateIssuer);
      return `trust ${vendor ? `${vendor}'s` : 'its'} root CA: --ca-file PATH (its PEM), --system-ca when it is in the operating system's store, or NODE_EXTRA_CA_CERTS=PATH`;
    },
  },
] satisfies ControlRow[]);

/** The control that explains an observation, or undefined when none of the table's marks are in it. */
export function recognizeControl(observation: Observation, target: Target): ControlMatch | undefined {
  const row = CONTROLS.find((r) => r.matches(observation));
  if (!row) return undefined;
  const control = typeof row.control === 'string' ? row.control : row.control(observation);
  const match = { cause: row.cause, control, fix: row.fix(target, observation), source: row.source };
  if (!row.unconfirmed) return match;
  return { ...match, observed: row.unconfirmed.observed(target, observation), alternatives: row.unconfirmed.alternatives(target, observation) };
}

/** Whether a match is only a possible cause (the observation does not single the control out). */
export function isUnconfirmed(match: ControlMatch): boolean {
  return match.alternatives !== undefined;
}

/**
 * The line `check` and `run` print: `blocked by Codex sandbox proxy (...): add "api.openai.com" to ...`
 * for a control its marks name; for a possible cause, what was seen and each cause that fits it.
 */
export function controlLine(match: ControlMatch): string {
  if (isUnconfirmed(match)) return `${match.observed}: either ${match.control} (if so, ${match.fix}), or ${match.alternatives}`;
  return `blocked by ${match.control}: ${match.fix}`;
}
