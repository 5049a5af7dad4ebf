import type { Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { NetworkSettings } from '../api/dispatcher.js';
import type { Environment } from '../config/environment.js';
import { anchorOf, knownAnchors, viewOf, type CertificateView } from './chain.js';
import { handshake, openTcp, openTunnel, resolveHost, secureProxy, StageFailure, type Handshake } from './stages.js';
import { caOption, systemBundlePath } from './trust.js';
import { HARDEN_RUNNER_SINKHOLE, type Observation, type ObservedStage } from './controls.js';
import { loadSocksClient, socksConnect, socksGreet } from './socks-stages.js';
import { systemCaSwitches } from './node-advice.js';

type StageName = 'dns' | 'tcp' | 'proxy_tls' | 'connect' | 'socks_auth' | 'socks_connect' | 'tls';

/** One stage as `check` reports it; `curl` names the matching `--write-out` timing users know. */
export interface StageReport {
  readonly name: StageName;
  readonly curl: string | null;
  status: 'ok' | 'failed' | 'skipped';
  ms: number | null;
  detail: string;
  hint: string | null;
  /** TLS only: the chain the peer presented, leaf first. */
  chain?: readonly CertificateView[];
  /** TLS only: which trust source accepts the chain, when one does. */
  trusted_by?: string | null;
  /** TLS only: the chain is trusted only through an added CA, so something re-signs TLS for this host. */
  intercepted?: boolean;
}

interface StagesOutcome {
  readonly stages: StageReport[];
  /** Set when a stage failed: what every endpoint's verdict becomes, without sending anything. */
  readonly failure: { readonly verdict: 'blocked' | 'unreachable'; readonly detail: string; readonly hint: string } | undefined;
  /** What the failed stage saw, for naming the egress control (src/egress/controls.ts). */
  readonly observation?: Observation | undefined;
}

/** How the stages are named in text: the same words `check` prints. */
export const STAGE_TITLES: Readonly<Record<StageName, string>> = {
  dns: 'DNS',
  tcp: 'TCP connect',
  proxy_tls: 'proxy TLS',
  connect: 'proxy CONNECT',
  socks_auth: 'SOCKS greeting',
  socks_connect: 'SOCKS connect',
  tls: 'TLS',
};

const CURL_NAMES: Readonly<Record<StageName, string | null>> = { dns: 'namelookup', tcp: 'connect', proxy_tls: null, connect: null, socks_auth: null, socks_connect: null, tls: 'appconnect' };

/**
 * DNS, TCP, proxy CONNECT and TLS, one after the other, each under its own deadline. With a
 * proxy, DNS and TCP concern the proxy: the proxy resolves the API host itself.
 */
export async function runStages(network: NetworkSettings, env: Environment): Promise<StagesOutcome> {
  const { baseUrl, proxy, timeoutMs, trust } = network;
  const ca = caOption(trust, rootCertificates);
  const https = baseUrl.protocol === 'https:';
  const targetPort = Number(baseUrl.port || (https ? 443 : 80));
  const authority = `${baseUrl.hostname}:${targetPort}`;
  const socks = proxy?.kind === 'socks5';
  const proxyStages: StageName[] = !proxy ? [] : socks ? ['socks_auth', 'socks_connect'] : [...(proxy.url.protocol === 'https:' ? (['proxy_tls'] as const) : []), 'connect'];
  const names: StageName[] = ['dns', 'tcp', ...proxyStages, ...(https ? (['tls'] as const) : [])];
  const stages: StageReport[] = names.map((name) => ({ name, curl: CURL_NAMES[name], status: 'skipped', ms: null, detail: 'not reached', hint: null }));
  const stageOf = (name: StageName): StageReport => stages.find((s) => s.name === name) as StageReport;
  const timed = async <T>(name: StageName, work: () => Promise<T>, describe: (value: T) => string): Promise<T> => {
    const report = stageOf(name);
    const started = performance.now();
    try {
      const value = await work();
      report.status = 'ok';
      report.detail = describe(value);
      return value;
    } catch (error) {
      report.status = 'failed';
      report.detail = error instanceof Error ? error.message : String(error);
      report.hint = error instanceof StageFailure ? error.hint : null;
      throw error;
    } finally {
      report.ms = Math.round(performance.now() - started);
    }
  };

  const hopHost = proxy ? proxy.url.hostname : baseUrl.hostname;
  const hopPort = proxy ? Number(proxy.url.port || (socks ? 1080 : proxy.url.protocol === 'https:' ? 443 : 80)) : targetPort;
  const hopLabel = proxy ? `the proxy ${proxy.display}` : baseUrl.host;
  let socket: Socket | undefined;
  try {
    await timed('dns', () => resolveHost(hopHost, timeoutMs).then((r) => refuseSinkhole(r, proxy === undefined)), (r) => r.detail);
    socket = await timed('tcp', () => openTcp(hopHost, hopPort, hopLabel, timeoutMs), (s) => `connected to ${hopLabel} (${s.remoteAddress ?? hopHost}:${hopPort})`);
    if (proxy && socks) {
      const Client = await loadSocksClient();
      const tcp = socket;
      const { client } = await timed(
        'socks_auth',
        () => socksGreet(Client, tcp, proxy, timeoutMs),
        (g) => (g.authenticated ? `the SOCKS5 proxy asked for username/password and accepted those of ${decodeURIComponent(proxy.url.username)}` : 'the SOCKS5 proxy asked for no authentication'),
      );
      const host = baseUrl.hostname.replace(/^\[|\]$/g, '');
      await timed('socks_connect', () => socksConnect(client, tcp, proxy, host, targetPort, timeoutMs), () => `the proxy connected to ${authority} (reply 0, succeeded)`);
    } else if (proxy) {
      if (proxy.url.protocol === 'https:') {
        const tcp = socket;
        socket = await timed('proxy_tls', () => secureProxy(tcp, proxy, ca, timeoutMs), () => `TLS to the proxy ${proxy.url.host} verified`);
      }
      const tunnelSocket = socket;
      await timed('connect', () => openTunnel(tunnelSocket, proxy, authority, timeoutMs), (a) => `the proxy answered CONNECT ${authority} with HTTP ${a.status} ${a.statusText}`.trim());
    }
    if (https) {
      const tlsSocket = socket;
      const result = await timed('tls', () => handshake(tlsSocket, baseUrl.hostname.replace(/^\[|\]$/g, ''), ca, timeoutMs), (h) => `${h.protocol ?? 'TLS'} with ${baseUrl.hostname}`);
      judgeTrust(stageOf('tls'), result, network, env);
    }
    return { stages, failure: undefined };
  } catch (error) {
    socket?.destroy();
    const failure = error instanceof StageFailure ? error : new StageFailure(error instanceof Error ? error.message : String(error), 'see the stage that failed');
    const failed = OBSERVED_STAGE[stages.find((st) => st.status === 'failed')?.name ?? 'tcp'];
    return {
      stages,
      observation: failed && failure.observed ? { stage: failed, proxyKind: !proxy ? 'none' : proxy.kind === 'socks5' ? 'socks' : 'http', ...failure.observed } : undefined,
      failure: {
        verdict: failure.blocked ? 'blocked' : 'unreachable',
        detail: `not sent: the ${STAGE_TITLES[stages.find((st) => st.status === 'failed')?.name ?? 'tcp']} stage failed`,
        hint: failure.hint,
      },
    };
  } finally {
    socket?.destroy();
  }
}

/**
 * Says whose CA the presented chain ends at. Trusted only through an added CA means TLS is
 * re-signed on the way (interception) or the server uses a private CA. An untrusted chain is
 * shown certificate by certificate, with the option that would make it trusted.
 */
function judgeTrust(report: StageReport, result: Handshake, network: NetworkSettings, env: Environment): void {
  const chain = result.chain.map(viewOf);
  const leaf = chain[0];
  const anchors = knownAnchors(network.trust.extra, systemBundlePath(env), (name) => env.get(name));
  const anchor = anchorOf(result.chain, anchors);
  report.chain = chain;
  report.trusted_by = result.authorized ? (anchor?.label ?? 'the default trust store') : null;
  const peer = leaf ? `certificate for "${leaf.subject}" issued by "${leaf.issuer}"` : 'no certificate';
  if (result.authorized) {
    report.intercepted = anchor !== undefined && anchor.label !== "Node's bundled roots";
    report.detail += `; ${peer}; ${report.intercepted ? `trusted only through ${anchor?.label}: TLS to this host is intercepted (re-signed by a proxy) or uses a private CA` : `chains to ${report.trusted_by}`}`;
    return;
  }
  report.status = 'failed';
  report.intercepted = anchor !== undefined && anchor.label !== "Node's bundled roots";
  report.detail += `; ${peer}; not trusted (${result.authorizationError ?? 'unknown reason'}); the chain was read without verification and nothing was sent over it`;
  const top = chain[chain.length - 1];
  if (result.authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    report.hint = `the certificate does not name ${network.baseUrl.hostname}: check --base-url, or the intercepting proxy's certificate generation`;
  } else if (result.authorizationError === 'CERT_HAS_EXPIRED' || result.authorizationError === 'CERT_NOT_YET_VALID') {
    // A trust store cannot fix a date: the CA may well be trusted (when anchor is active, it is).
    const when = result.authorizationError === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet';
    report.hint = `a certificate of the chain ${when} (the leaf is valid to ${leaf?.validTo ?? 'an unknown date'}; this machine's clock says ${new Date().toISOString()}): check the clock, or the certificate the server (or a proxy that re-signs TLS) presents`;
  } else if (anchor && !anchor.active) {
    report.hint = anchor.label.startsWith('--system-ca')
      ? `its issuer is in the operating system's CA bundle (${anchor.label.replace(/^--system-ca \((.*)\)$/, '$1')}), which Node does not read by default: add --system-ca${systemCaSwitches()}`
      : `its issuer is in a CA file Node does not read: add ${anchor.label.replace(/ \(.*\)$/, '')} (or set NODE_EXTRA_CA_CERTS to that file)`;
  } else if (anchor?.active) {
    // Its CA is already trusted: another CA option cannot help, the certificates themselves are at fault.
    report.hint = `the chain ends at "${top?.issuer ?? 'an unknown CA'}" and this run trusts it (${anchor.label}), yet the chain was refused (${result.authorizationError ?? 'unknown reason'}): the certificates themselves are at fault (a CA marked CA:FALSE or without keyCertSign, a leaf without serverAuth, an intermediate missing from the chain): fix the certificates the server (or the proxy that re-signs TLS) uses`;
  } else {
    report.hint = `the chain ends at "${top?.issuer ?? 'an unknown CA'}", which this run does not trust; if that CA is your proxy's, get its certificate (PEM) and pass --ca-file PATH or set NODE_EXTRA_CA_CERTS=PATH`;
  }
  const issuer = result.chain[0]?.issuer;
  const issuerName = [issuer?.O, issuer?.CN].flat().find((name) => typeof name === 'string' && name.length > 0);
  throw new StageFailure(`TLS: ${report.detail}`, report.hint, undefined, { observed: { errorCode: result.authorizationError, certificateIssuer: issuerName } });
}

/** check's stages as the control table names them; TLS to the proxy itself says nothing about the API's way. */
const OBSERVED_STAGE: Readonly<Record<StageName, ObservedStage | undefined>> = { dns: 'dns', tcp: 'tcp', proxy_tls: undefined, connect: 'connect', socks_auth: 'socks', socks_connect: 'socks', tls: 'tls' };

/**
 * StepSecurity harden-runner answers a name it blocks with its sinkhole address: a direct
 * connection there would only be refused, so check stops at DNS and names the control.
 */
function refuseSinkhole<T extends { address: string }>(resolved: T, direct: boolean): T {
  if (direct && resolved.address === HARDEN_RUNNER_SINKHOLE) {
    throw new StageFailure(`the name resolved to ${HARDEN_RUNNER_SINKHOLE}, StepSecurity harden-runner's sinkhole: nothing was sent there`, 'the name is blocked at DNS', undefined, {
      observed: { resolvedAddress: resolved.address },
    });
  }
  return resolved;
}
