import type { Answerer } from './answer-origin.js';
import { rootCoded } from '../api/transport-errors.js';
import { ApiError, NetworkError } from '../errors.js';
import type { CallDescription } from './answer-origin.js';
import { controlLine, recognizeControl, type ControlMatch, type Observation, type Target } from './controls.js';
import type { EndpointResult } from './probes.js';
import type { TunnelObservations } from './tunnel-watch.js';

/**
 * What `check` and `run` saw, turned into the observations src/egress/controls.ts reads. The
 * only glue between the table and the code that talks to the network: the lead re-wires here
 * when the stages change.
 */

/** host and port of an API call, from its `host[:port]`. */
export function targetOf(host: string, defaultPort = 443): Target {
  const match = /^(.*?)(?::(\d+))?$/.exec(host);
  return { host: (match?.[1] ?? host).replace(/^\[|\]$/g, ''), port: match?.[2] ? Number(match[2]) : defaultPort };
}

/** An HTTP answer that was not a success, as a run or a probe got it. */
export function observationOfAnswer(method: string, status: number, headers: Readonly<Record<string, string>>, body: string, answeredBy: Answerer): Observation {
  return { stage: 'http', method, status, headers, body, answeredBy };
}

/** Codes undici and Node give a connection that a firewall or a SOCKS ruleset refused. */
const CONNECT_STAGE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);

/** What a network failure of a run says about the way, with what the proxy watch saw; `waitedMs`: the --timeout it waited. */
function observationOfNetworkError(error: NetworkError, tunnel: TunnelObservations | undefined, proxyKind: 'none' | 'http' | 'socks', waitedMs?: number): Observation | undefined {
  const { code } = rootCoded(error.cause ?? error);
  if (code?.startsWith('UND_ERR_SOCKS5')) return { stage: 'socks', errorCode: code, proxyKind: 'socks' };
  if (code !== undefined && CONNECT_STAGE_CODES.has(code)) return { stage: 'tcp', errorCode: code, proxyKind };
  const answer = tunnel?.lastAnswer;
  if (error.stage === 'proxy' && answer && answer.status !== 200) return { stage: 'connect', status: answer.status, headers: answer.headers, proxyKind };
  // A tunnel opened (CONNECT 200) and no TLS connection to the API host ever completed in it: the silence came right after the 200.
  const silentTunnel = tunnel !== undefined && tunnel.tunnelsUp > 0 && tunnel.targetConnections === 0;
  if (silentTunnel && (code === 'UND_ERR_CONNECT_TIMEOUT' || error.stage === 'timeout')) return { stage: 'tls', errorCode: 'ETIMEDOUT', proxyKind, waitedMs };
  return undefined;
}

/** The same network error, its message ending with the control's line (a verdict, or a possible cause), when one is recognised. */
export function withControl(error: NetworkError, call: CallDescription, tunnel: TunnelObservations | undefined, proxyKind: 'none' | 'http' | 'socks', waitedMs?: number): NetworkError {
  const observation = observationOfNetworkError(error, tunnel, proxyKind, waitedMs);
  const control = observation && recognizeControl(observation, targetOf(call.host));
  if (!control) return error;
  return new NetworkError(`${error.message}; ${controlLine(control)}`, error.stage, error.maybeDelivered, { cause: error.cause ?? error, control });
}

/** The control an error of a run carries, for --json; the retry layer may have wrapped the error that names it. */
export function controlOf(error: unknown): ControlMatch | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof ApiError && current.details.control) return current.details.control;
    if (current instanceof NetworkError && current.control) return current.control;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What `check` probed and saw, for the one control its verdict names. */
interface CheckEvidence {
  /** The stage that failed, when one did. */
  readonly stage: Observation | undefined;
  readonly endpoints: readonly EndpointResult[];
  /** The answer each probe got (by endpoint name), when it got one. */
  readonly answers: ReadonlyMap<string, { readonly status: number; readonly headers: Readonly<Record<string, string>> }>;
}

/** The control named by check's stages, else by the first refused probe. */
export function controlOfCheck(evidence: CheckEvidence, target: Target): ControlMatch | undefined {
  if (evidence.stage) return recognizeControl(evidence.stage, target);
  const retrieve = evidence.endpoints.find((e) => e.name === 'retrieve');
  const getReachedApi = retrieve?.verdict === 'ok' && retrieve.answered_by === 'api';
  // A POST the API answered (create refused, cancel through) means a path filter, not a method limit.
  const postReachedApi = evidence.endpoints.some((e) => e.method === 'POST' && e.answered_by === 'api');
  for (const endpoint of evidence.endpoints) {
    const answer = evidence.answers.get(endpoint.name);
    if (endpoint.verdict !== 'blocked' || !answer) continue;
    const control = recognizeControl({ stage: 'http', method: endpoint.method, status: answer.status, headers: answer.headers, answeredBy: endpoint.answered_by ?? 'other', getReachedApi, postReachedApi }, target);
    if (control) return control;
  }
  return undefined;
}
