import { ENDPOINTS, endpointPath } from '../api/endpoints.js';
import { isLoopbackHost } from '../config/values.js';

/** The minimal egress allowlist, as `policy --json` prints it. */
export interface Policy {
  readonly host: string;
  readonly port: number;
  readonly scheme: string;
  readonly endpoints: readonly { readonly name: string; readonly method: string; readonly path: string; readonly required: boolean; readonly purpose: string }[];
}

/** Built from the endpoint table, so the allowlist can never drift from what the client sends. */
export function policyFor(baseUrl: URL): Policy {
  const https = baseUrl.protocol === 'https:';
  return {
    host: baseUrl.hostname,
    port: Number(baseUrl.port || (https ? 443 : 80)),
    scheme: baseUrl.protocol.slice(0, -1),
    endpoints: ENDPOINTS.map((ep) => ({ name: ep.name, method: ep.method, path: endpointPath(baseUrl, ep), required: ep.required, purpose: ep.purpose })),
  };
}

/** What `policy --json` prints: the launcher's quick answer (src/cli/quick-policy.ts) and the command share it. */
export function policyJson(policy: Policy): object {
  const { host, port, scheme, endpoints } = policy;
  return { host, port, scheme, endpoints: endpoints.map(({ name, method, path, required }) => ({ name, method, path, required })) };
}

/** The Markdown table of the policy: `policy` prints it and docs/outbound-network-access.md holds it verbatim. */
export function policyTable(policy: Policy): string {
  const rows = policy.endpoints.map((e) => `| ${e.name} | ${e.method} | ${e.path} | ${e.required ? 'yes' : 'no (only to cancel)'} | ${e.purpose} |`);
  return ['| name | method | path | required | why |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** The whole text of `bgprobe policy`. */
export function renderPolicy(policy: Policy): string {
  const byMethod = new Map<string, string[]>();
  for (const e of policy.endpoints) byMethod.set(e.method, [...(byMethod.get(e.method) ?? []), e.name]);
  const methods = [...byMethod].map(([method, names]) => `${method} (${names.join(', ')})`).join(' and ');
  return [
    `Allow ${policy.scheme}://${policy.host}:${policy.port} (one host, one port). bgprobe sends these requests and no others:`,
    '',
    policyTable(policy),
    '',
    ...egressAdvice(policy, methods),
    '',
    'Stream mode (--stream) uses the same two required endpoints: the create with stream: true, and',
    'the retrieve with ?stream=true&starting_after=N to attach or resume. Nothing else to allow.',
    '',
  ].join('\n');
}

/**
 * What to tell whoever configures the allowlist. A loopback base URL (the emulator, a local
 * relay) never leaves the machine, so no egress rule, preset or TLS interception applies to it;
 * over plain http a proxy sees every method without intercepting anything.
 */
function egressAdvice(policy: Policy, methods: string): string[] {
  if (isLoopbackHost(policy.host)) {
    return [`${policy.host} is this machine (the emulator, or a relay you run): nothing leaves it, so no egress allowlist is involved.`, 'Verify with: bgprobe check'];
  }
  const lines = [
    `Methods needed: ${methods}. An egress policy that allows only GET, HEAD and OPTIONS blocks`,
    'create (and cancel), so background mode cannot start; only polling an existing response would work.',
  ];
  const forList = 'In the syntax of your firewall or sandbox: bgprobe policy --for list.';
  if (policy.scheme !== 'https') return [...lines, `Codex cloud's "Common dependencies" preset does not include ${policy.host}: add it by hand. Verify with: bgprobe check`, forList];
  return [
    ...lines,
    'Blocking by method on HTTPS needs a proxy that intercepts TLS: trust its CA with --ca-file,',
    '--system-ca or NODE_EXTRA_CA_CERTS. Codex cloud\'s "Common dependencies" preset does not include',
    `${policy.host}: add it by hand. Verify with: bgprobe check`,
    forList,
  ];
}
