/**
 * What the running Node offers for trust and proxies, and whether it is still supported: hints
 * name Node's own switches only where this Node has them. Versions from Node's docs and release
 * schedule (nodejs/Release); keep every date and version here, in one place.
 */

/** End of life of each release line (nodejs/Release schedule). */
const NODE_END_OF_LIFE: Readonly<Record<number, string>> = {
  18: '2025-04-30',
  19: '2023-06-01',
  20: '2026-04-30',
  21: '2024-06-01',
  22: '2027-04-30',
  23: '2025-06-01',
  24: '2028-04-30',
  25: '2026-06-01',
  26: '2029-04-30',
};

/** [major, minor] from which a feature exists, per release line; a later line has it from .0. */
type Since = readonly (readonly [number, number])[];

/** `--use-system-ca`: 23.8 (macOS, Windows), 23.9 (Linux and others), in 22.x from 22.19 (nodejs/learn#79). */
const USE_SYSTEM_CA_FLAG: Since = [[22, 19], [23, 9], [24, 0]];
/** `NODE_USE_SYSTEM_CA=1`: nodejs/node#59276, released in 24.6.0 and 22.19.0. */
const USE_SYSTEM_CA_ENV: Since = [[22, 19], [24, 6]];
/** `NODE_USE_ENV_PROXY=1`: 24.0.0 and 22.21.0 (Node's http docs, "Built-in Proxy Support"). */
const USE_ENV_PROXY: Since = [[22, 21], [24, 0]];

function parse(version: string): [number, number] {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return [major, minor];
}

function has(version: string, since: Since): boolean {
  const [major, minor] = parse(version);
  for (const [m, n] of since) {
    if (major === m) return minor >= n;
  }
  const last = since[since.length - 1];
  return last !== undefined && major > last[0];
}

interface NodeOffers {
  readonly useSystemCaFlag: boolean;
  readonly useSystemCaEnv: boolean;
  readonly useEnvProxy: boolean;
}

export function nodeOffers(version: string = process.versions.node): NodeOffers {
  return { useSystemCaFlag: has(version, USE_SYSTEM_CA_FLAG), useSystemCaEnv: has(version, USE_SYSTEM_CA_ENV), useEnvProxy: has(version, USE_ENV_PROXY) };
}

/** For a hint about an OS-store CA: what other Node tools on this Node can use; empty on a Node without it. */
export function systemCaSwitches(version: string = process.versions.node): string {
  const offers = nodeOffers(version);
  const names = [offers.useSystemCaFlag ? 'node --use-system-ca' : '', offers.useSystemCaEnv ? 'NODE_USE_SYSTEM_CA=1' : ''].filter(Boolean);
  return names.length > 0 ? `; other Node tools on this Node ${version} read the same store with ${names.join(' or ')}` : '';
}

/** For a proxy note: how other Node tools on this Node honour HTTPS_PROXY; empty on a Node without it. */
export function envProxySwitch(version: string = process.versions.node): string {
  return nodeOffers(version).useEnvProxy ? `other Node tools on this Node ${version} follow HTTPS_PROXY only with NODE_USE_ENV_PROXY=1 (or node --use-env-proxy)` : '';
}

/** One line when this Node is past its end of life, else undefined. */
export function endOfLifeNote(version: string = process.versions.node, today: Date = new Date()): string | undefined {
  const [major] = parse(version);
  const eol = NODE_END_OF_LIFE[major];
  if (eol === undefined || today.toISOString().slice(0, 10) < eol) return undefined;
  return `this Node ${version} reached its end of life on ${eol} and gets no security fixes: run bgprobe (and your tools) on a supported Node such as 22 or 24`;
}
