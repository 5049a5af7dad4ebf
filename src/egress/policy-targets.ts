import type { Policy } from './policy.js';

/**
 * `policy --for <target>`: the allowlist of `policy`, from the same endpoint table, in the
 * syntax of the place it goes, ready to paste. Each target's rules are checked by a test
 * (test/policy-targets.test.ts), squid's by squid itself where it is installed.
 */
interface PolicyTarget {
  readonly name: TargetName;
  /** Where the snippet goes, for `--for list`. */
  readonly place: string;
}

export const TARGET_NAMES = ['squid', 'no-proxy', 'harden-runner', 'copilot-agent', 'codex-cloud', 'devcontainer', 'hosts'] as const;
type TargetName = (typeof TARGET_NAMES)[number];

const TARGETS: readonly PolicyTarget[] = Object.freeze([
  { name: 'squid', place: 'squid.conf: an acl and an http_access line, above the deny rules' },
  { name: 'no-proxy', place: 'NO_PROXY / no_proxy: reach the API directly while other traffic uses the proxy' },
  { name: 'harden-runner', place: "GitHub Actions, step-security/harden-runner's allowed-endpoints (egress-policy: block)" },
  { name: 'copilot-agent', place: "GitHub Copilot coding agent: the repository's custom firewall allowlist" },
  { name: 'codex-cloud', place: "Codex cloud: the environment's internet access, domain allowlist and allowed HTTP methods" },
  { name: 'devcontainer', place: "a devcontainer firewall script (init-firewall.sh): its domain list" },
  { name: 'hosts', place: 'a plain host:port list' },
] satisfies PolicyTarget[]);

/** One target's allowlist: `text` to paste (with comments where the syntax has them), `data` for --json. */
interface TargetSnippet {
  readonly target: TargetName;
  readonly place: string;
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** What the snippet cannot say in its own syntax; printed after it, a field in --json. */
  readonly note: string;
}

export function isTargetName(value: string): value is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(value);
}

/** `squid, no-proxy, ...`: what an unknown target's error lists. */
export function targetList(): string {
  return TARGET_NAMES.join(', ');
}

/** The text of `policy --for list`. */
export function renderTargetList(): string {
  const width = Math.max(...TARGETS.map((t) => t.name.length));
  return `${TARGETS.map((t) => `${t.name.padEnd(width)}  ${t.place}`).join('\n')}\n`;
}

const METHODS_NOTE = (p: Policy) => `${methodsOf(p).join(' and ')} to ${p.host}`;

function methodsOf(policy: Policy): string[] {
  return [...new Set(policy.endpoints.map((e) => e.method))];
}

/** One target's snippet for this policy (this host and port: the base URL decides them). */
export function snippetFor(name: TargetName, policy: Policy): TargetSnippet {
  const { host, port } = policy;
  const place = TARGETS.find((t) => t.name === name)?.place ?? name;
  const hostPort = `${host}:${port}`;
  const bare = host.replace(/^\[|\]$/g, '');
  switch (name) {
    case 'squid': {
      // dstdomain compares names; an IP destination needs dst (dstdomain would look its name up).
      const acl = isIpAddress(bare) ? `acl bgprobe_api dst ${bare}` : `acl bgprobe_api dstdomain ${bare}`;
      const https = policy.scheme === 'https';
      const lines = [
        `# bgprobe: ${METHODS_NOTE(policy)} (${policy.endpoints.map((e) => e.name).join(', ')}). Above the first "http_access deny" line.`,
        acl,
        `acl bgprobe_port port ${port}`,
        // bgprobe (undici's ProxyAgent) tunnels plain http through CONNECT too; the method rule serves clients that forward it.
        `http_access allow CONNECT bgprobe_api bgprobe_port`,
        ...(https ? [] : [`acl bgprobe_methods method ${methodsOf(policy).join(' ')}`, 'http_access allow bgprobe_api bgprobe_port bgprobe_methods']),
      ];
      const note =
        port !== 443
          ? `squid's default configuration also denies CONNECT to ports outside SSL_ports: add "acl SSL_ports port ${port}" above it`
          : https
            ? 'over HTTPS squid sees only the CONNECT, not the methods; a method rule needs ssl_bump'
            : 'bgprobe sends plain http through a CONNECT tunnel as well, so squid sees only the CONNECT';
      return { target: name, place, text: `${lines.join('\n')}\n`, data: { acl: lines.slice(1) }, note };
    }
    case 'no-proxy': {
      // Appends to what is set already: `${NO_PROXY:+$NO_PROXY,}` is the shell's, not a template's.
      const lines = ['NO_PROXY', 'no_proxy'].map((name) => `export ${name}="\${${name}:+$${name},}${bare}"`);
      return {
        target: name,
        place,
        text: `${lines.join('\n')}\n`,
        data: { value: bare, variables: ['NO_PROXY', 'no_proxy'] },
        note: 'both spellings: curl reads only the lower-case one for http, undici and Node let it win; the host itself, as curl does not read ports in NO_PROXY',
      };
    }
    case 'harden-runner': {
      const lines = ['- uses: step-security/harden-runner@v2', '  with:', '    egress-policy: block', '    allowed-endpoints: >', `      ${hostPort}`];
      return { target: name, place, text: `${lines.join('\n')}\n`, data: { 'egress-policy': 'block', 'allowed-endpoints': [hostPort] }, note: 'add the endpoints your other steps need on further lines; harden-runner filters by host and port, never by method or path' };
    }
    case 'copilot-agent':
      return {
        target: name,
        place,
        text: `${bare}\n`,
        data: { entries: [bare] },
        note: `Settings > Copilot > Coding agent > custom allowlist: add the entry above (a domain also allows its subdomains); it covers the processes the agent starts from its Bash tool only${port !== 443 && port !== 80 ? `; port ${port} is not part of a domain entry` : ''}`,
      };
    case 'codex-cloud': {
      const lines = ['Agent internet access: On', `Domain allowlist: None (or Common dependencies), plus ${bare}`, 'Allowed HTTP methods: All'];
      return {
        target: name,
        place,
        text: `${lines.join('\n')}\n`,
        data: { internet_access: 'On', domains: [bare], allowed_http_methods: 'All' },
        note: `the "Common dependencies" preset does not include ${bare}; "GET, HEAD, OPTIONS" would block create and cancel (POST), so background mode could not start`,
      };
    }
    case 'devcontainer':
      return {
        target: name,
        place,
        text: `    "${bare}" \\\n`,
        data: { domains: [bare], port },
        note: `one more word in the script's "for domain in ..." list; the script resolves each name to IP addresses once, when it runs, so when the API's addresses rotate connections fail with EHOSTUNREACH until it runs again`,
      };
    case 'hosts':
      return { target: name, place, text: `${hostPort}\n`, data: { endpoints: [hostPort] }, note: 'one host:port per line' };
  }
}

/** An IPv4 or IPv6 literal (URL.hostname has already normalised it). */
function isIpAddress(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}
