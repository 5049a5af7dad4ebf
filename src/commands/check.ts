import type { Exchange } from '../api/client.js';
import type { CommandOutcome } from '../cli/outcome.js';
import { createResponsesClient } from '../job/api-client.js';
import { loadEnvironment } from '../config/environment.js';
import type { CheckFlags } from '../cli/flags.js';
import { resolveApiConfig } from '../config/run-config.js';
import { runStages } from '../egress/check-stages.js';
import { renderCheck, type CheckResult } from '../egress/check-text.js';
import { checkText, checkUsesColour } from '../egress/check-style.js';
import { controlOfCheck, targetOf } from '../egress/control-evidence.js';
import { isUnconfirmed } from '../egress/controls.js';
import { notProbed, probeEndpoints, type EndpointResult } from '../egress/probes.js';
import { TunnelWatch } from '../egress/tunnel-watch.js';
import { endOfLifeNote, envProxySwitch, nodeOffers } from '../egress/node-advice.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { NetworkSettings } from '../api/dispatcher.js';
import type { StageReport } from '../egress/check-stages.js';
import { maskSecret } from '../redact.js';
import { envFileOf } from './shared.js';

/** check answers in seconds: a black-holed host must give a verdict quickly, not after a run's 60 s. */
const CHECK_TIMEOUT_SECONDS = 5;

/**
 * `bgprobe check`: DNS, TCP, proxy CONNECT and TLS by hand, then one probe per endpoint through
 * the same client and dispatcher a run uses. Spends no tokens. Exit 0 only when every required
 * endpoint is `ok`.
 */
export async function checkCommand(flags: CheckFlags, io: Io): Promise<CommandOutcome> {
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  const config = resolveApiConfig(flags, env, io.cwd, CHECK_TIMEOUT_SECONDS);
  const network = config.network;

  const { stages, failure, observation } = await runStages(network, env);
  let endpoints: EndpointResult[];
  const answers = new Map<string, { status: number; headers: Readonly<Record<string, string>> }>();
  if (failure) {
    endpoints = notProbed(network.baseUrl, failure.verdict, failure.detail, failure.hint);
  } else {
    const exchanges: Exchange[] = [];
    const watch = network.proxy ? new TunnelWatch(network.proxy) : undefined;
    const client = createResponsesClient(config, (exchange) => {
      exchanges.push(exchange);
      if (exchange.status !== undefined) answers.set(exchange.endpoint, { status: exchange.status, headers: exchange.responseHeaders });
    }, watch);
    try {
      endpoints = await probeEndpoints(client, exchanges, network.baseUrl, config.apiKey !== undefined, watch, network.proxy?.kind === 'http');
    } finally {
      await client.close();
    }
  }
  const control = controlOfCheck({ stage: observation, endpoints, answers }, targetOf(network.baseUrl.host, network.baseUrl.protocol === 'https:' ? 443 : 80));
  const result: CheckResult = {
    ok: endpoints.every((e) => !e.required || e.verdict === 'ok'),
    notes: notesFor(network, stages),
    base_url: network.baseUrl.href,
    proxy: network.proxyExplanation,
    trust: network.trust.description,
    key: config.apiKey === undefined ? 'not set (key not checked)' : `set (${maskSecret(config.apiKey)})`,
    timeout_seconds: network.timeoutMs / 1000,
    stages,
    endpoints,
    control: control && !isUnconfirmed(control) ? control : null,
    possible_control: control && isUnconfirmed(control) ? control : null,
  };
  const exitCode = result.ok ? EXIT.ok : EXIT.failure;
  if (flags.json) return { exitCode, json: result };
  return { exitCode, ...checkText(renderCheck(result), result.ok, checkUsesColour(flags, io)) };
}

/** Facts about the environment that explain a verdict or prevent the next surprise. */
function notesFor(network: NetworkSettings, stages: readonly StageReport[]): string[] {
  const notes: string[] = [];
  if (network.proxy) notes.push(`the proxy resolves ${network.baseUrl.hostname} itself, so this machine's DNS for it does not matter`);
  const envProxy = envProxySwitch();
  if (network.proxy && network.proxy.kind === 'http' && network.proxy.source !== '--proxy' && envProxy) notes.push(envProxy);
  if (network.proxy?.source.toLowerCase() === 'all_proxy') notes.push(`the proxy comes from ${network.proxy.source}, which curl reads but undici and Node's own fetch do not: other Node tools need HTTPS_PROXY`);
  const eol = endOfLifeNote();
  if (eol) notes.push(eol);
  if (stages.some((s) => s.intercepted)) {
    notes.push(`TLS is re-signed on the way (or the server uses a private CA): other tools need the same CA (curl: CURL_CA_BUNDLE, Python: REQUESTS_CA_BUNDLE or SSL_CERT_FILE, Node: NODE_EXTRA_CA_CERTS${nodeOffers().useSystemCaEnv ? ', or NODE_USE_SYSTEM_CA=1 when the CA is in the OS store' : ''})`);
  }
  return notes;
}
