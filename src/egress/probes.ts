import type { Exchange, ResponsesClient } from '../api/client.js';
import { ENDPOINTS, endpointPath, type Endpoint } from '../api/endpoints.js';
import { ApiError, NetworkError } from '../errors.js';
import type { TunnelWatch } from './tunnel-watch.js';

/** `ok`: the API answered; `auth`: it refused the key; `blocked`: refused in between; `unreachable`: no HTTP answer. */
export type Verdict = 'ok' | 'auth' | 'blocked' | 'unreachable';

export interface EndpointResult {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly required: boolean;
  readonly verdict: Verdict;
  readonly status: number | null;
  readonly answered_by: 'api' | 'intermediary' | null;
  readonly request_id: string | null;
  readonly ms: number | null;
  readonly detail: string;
  readonly hint: string | null;
}

/**
 * A response id that cannot exist: the API answers 404 (or 401 without a key) and nothing
 * runs. It is not in the API's id format on purpose, so it can never match a real response.
 */
export const IMPOSSIBLE_ID = 'resp_bgprobe_check_does_not_exist';

/** A create body the API rejects before any model runs: no model, no input. */
export const REJECTED_CREATE_BODY = Object.freeze({});

/**
 * Sends one probe per endpoint through the same client and dispatcher a run uses, and
 * classifies each answer by who sent it. Spends no tokens.
 */
export async function probeEndpoints(client: ResponsesClient, exchanges: readonly Exchange[], baseUrl: URL, keyGiven: boolean, watch: TunnelWatch | undefined): Promise<EndpointResult[]> {
  const results: EndpointResult[] = [];
  for (const ep of ENDPOINTS) {
    const before = exchanges.length;
    let error: unknown;
    try {
      if (ep.name === 'create') await client.create(REJECTED_CREATE_BODY);
      else if (ep.name === 'retrieve') await client.retrieve(IMPOSSIBLE_ID);
      else await client.cancel(IMPOSSIBLE_ID);
    } catch (caught) {
      error = caught;
    }
    const exchange = exchanges.length > before ? exchanges[exchanges.length - 1] : undefined;
    results.push(classify(ep, endpointPath(baseUrl, ep), exchange, error, keyGiven, watch));
  }
  return results;
}

function classify(ep: Endpoint, path: string, exchange: Exchange | undefined, error: unknown, keyGiven: boolean, watch: TunnelWatch | undefined): EndpointResult {
  const base = {
    name: ep.name,
    method: ep.method,
    path,
    required: ep.required,
    status: exchange?.status ?? null,
    request_id: exchange?.requestId ?? null,
    ms: exchange ? Math.round(exchange.durationMs) : null,
  };
  if (error === undefined) {
    return { ...base, verdict: 'ok', answered_by: 'api', detail: `the API answered HTTP ${base.status}`, hint: null };
  }
  if (error instanceof ApiError) {
    const by = error.details.answeredBy ?? 'intermediary';
    if (by === 'intermediary') {
      // A gateway's 5xx means it could not reach the API, not that a policy refused the call.
      const verdict = error.status >= 500 ? 'unreachable' : 'blocked';
      return { ...base, verdict, answered_by: by, detail: `HTTP ${error.status} from something in between, not the API`, hint: error.message };
    }
    const apiMessage = error.details.apiError?.message.slice(0, 120) ?? '';
    if (error.status === 401 && !keyGiven) {
      return { ...base, verdict: 'ok', answered_by: by, detail: `the API answered HTTP 401 (no key sent): the path works, key not checked`, hint: null };
    }
    if (error.status === 401 || error.status === 403) {
      return { ...base, verdict: 'auth', answered_by: by, detail: `the API refused the key: HTTP ${error.status} ${apiMessage}`, hint: 'the path works; check OPENAI_API_KEY (and OPENAI_ORG_ID / OPENAI_PROJECT_ID)' };
    }
    if (error.status === 400 || error.status === 404) {
      return { ...base, verdict: 'ok', answered_by: by, detail: `the API answered HTTP ${error.status}, as expected for this probe${keyGiven ? ' (key accepted)' : ''}`, hint: null };
    }
    // The path reaches the API (egress is fine), but a 429 or 5xx is not what this probe expects: say so, with the API's words.
    return { ...base, verdict: 'ok', answered_by: by, detail: `the API answered HTTP ${error.status}, not the 400/404 this probe expects: the path works, but ${apiMessage || 'see the status'}`, hint: null };
  }
  const message = error instanceof Error ? error.message : String(error);
  const refused = error instanceof NetworkError && error.stage === 'proxy' && (watch?.observations.lastAnswer?.status ?? 200) !== 200;
  return { ...base, verdict: refused ? 'blocked' : 'unreachable', answered_by: refused ? 'intermediary' : null, detail: refused ? 'the proxy refused the tunnel' : 'no HTTP answer', hint: message };
}

/** When an earlier stage failed, every endpoint gets that stage's verdict without sending anything. */
export function notProbed(baseUrl: URL, verdict: Verdict, detail: string, hint: string): EndpointResult[] {
  return ENDPOINTS.map((ep) => ({
    name: ep.name,
    method: ep.method,
    path: endpointPath(baseUrl, ep),
    required: ep.required,
    verdict,
    status: null,
    answered_by: verdict === 'blocked' ? 'intermediary' : null,
    request_id: null,
    ms: null,
    detail,
    hint,
  }));
}
