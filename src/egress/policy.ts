import { ENDPOINTS, endpointPath } from '../api/endpoints.js';

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
    `Methods needed: ${methods}. An egress policy that allows only GET, HEAD and OPTIONS blocks`,
    'create (and cancel), so background mode cannot start; only polling an existing response would work.',
    'Blocking by method on HTTPS needs a proxy that intercepts TLS: trust its CA with --ca-file,',
    '--system-ca or NODE_EXTRA_CA_CERTS. Codex cloud\'s "Common dependencies" preset does not include',
    `${policy.host}: add it by hand. Verify with: bgprobe check`,
    '',
    'Stream mode (--stream) uses the same two required endpoints: the create with stream: true, and',
    'the retrieve with ?stream=true&starting_after=N to attach or resume. Nothing else to allow.',
    '',
  ].join('\n');
}
