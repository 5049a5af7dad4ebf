import type { ApiAnswer, Exchange, ResponsesClient } from '../api/client.js';
import { ENDPOINTS, endpointPath, type Endpoint } from '../api/endpoints.js';
import { isInvalidUrl, NotApiAnswerError } from '../api/answer.js';
import { ApiError, NetworkError } from '../errors.js';
import { isQuotaError } from '../api/retry.js';
import { baseUrlAdvice, NOT_SERVED, type Answerer, type CallDescription } from './answer-origin.js';
import type { TunnelWatch } from './tunnel-watch.js';

/**
 * `ok`: the API answered the probe as it answers a valid path; `auth`: it refused the key;
 * `blocked`: refused by a proxy or something in between, or a page that is not the API's;
 * `unreachable`: no HTTP answer; `wrong-server`: an HTTP answer that is not the API's.
 */
export type Verdict = 'ok' | 'auth' | 'blocked' | 'unreachable' | 'wrong-server';

/**
 * Why an endpoint got its verdict, as a stable code for `--json` (docs/outbound-network-access.md
 * lists them): scripts can branch on these; the words in `detail` may change.
 */
export type Cause =
  | 'api_answered' // ok: the API's 400 (create) or 404 (retrieve, cancel) for the probe
  | 'api_key_not_checked' // ok: the API's 401 without a key: the path works
  | 'api_busy' // ok: the API itself answered 429 or 5xx: the path works, the API was busy
  | 'key_refused' // auth: the API refused the key given
  | 'quota_exhausted' // auth: the API's 429 insufficient_quota: the account cannot start a run
  | 'proxy_refused' // blocked: a proxy's own refusal (its marks, or the configured proxy)
  | 'proxy_auth_unconfigured' // blocked: a 407 with no HTTP proxy in use: something on the way, or the server at the base URL, wants proxy credentials
  | 'tunnel_refused' // blocked: the proxy refused the CONNECT tunnel
  | 'non_api_page' // blocked: a web page (a captive portal, a login or block page) answered for the API
  | 'redirect' // blocked: a redirect instead of the API's answer
  | 'refused_in_between' // blocked: an unmarked 4xx on a base URL where the API itself answered another probe
  | 'no_answer' // unreachable: no HTTP answer
  | 'gateway_error' // unreachable: a proxy's 5xx, it could not reach the API
  | 'stage_failed' // blocked or unreachable: an earlier stage failed, nothing was sent
  | 'wrong_path' // wrong-server: the API's 404 "Invalid URL", or another server's 404: the base URL is wrong
  | 'probe_accepted' // wrong-server: a 2xx to a probe the API always refuses
  | 'other_id' // wrong-server: an answer about another response id than the one asked for
  | 'not_api' // wrong-server: an answer without the API's marks
  | 'unexpected_api_answer'; // wrong-server: an API-marked answer the API does not give a valid path

export interface EndpointResult {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly required: boolean;
  readonly verdict: Verdict;
  readonly cause: Cause;
  readonly status: number | null;
  readonly answered_by: Answerer | null;
  readonly request_id: string | null;
  readonly ms: number | null;
  readonly detail: string;
  readonly hint: string | null;
}

/**
 * A response id that cannot exist: the API answers 404 (or 401 without a key) and nothing
 * runs. It is not in the API's id format on purpose, so it can never match a real response.
 */
const IMPOSSIBLE_ID = 'resp_bgprobe_check_does_not_exist';

/** A create body the API rejects before any model runs: no model, no input. */
const REJECTED_CREATE_BODY = Object.freeze({});

/**
 * Sends one probe per endpoint through the same client and dispatcher a run uses, and
 * classifies each answer by who sent it. Spends no tokens against the API; when a server that
 * is not the API accepts the create, the response it made is cancelled at once.
 */
export async function probeEndpoints(client: ResponsesClient, exchanges: readonly Exchange[], baseUrl: URL, keyGiven: boolean, watch: TunnelWatch | undefined, httpProxy: boolean): Promise<EndpointResult[]> {
  const results: EndpointResult[] = [];
  for (const ep of ENDPOINTS) {
    const before = exchanges.length;
    let error: unknown;
    let answer: ApiAnswer | undefined;
    try {
      if (ep.name === 'create') answer = await client.create(REJECTED_CREATE_BODY);
      else if (ep.name === 'retrieve') answer = await client.retrieve(IMPOSSIBLE_ID);
      else answer = await client.cancel(IMPOSSIBLE_ID);
    } catch (caught) {
      error = caught;
    }
    const exchange = exchanges.slice(before).find((e) => e.endpoint === ep.name);
    const call: CallDescription = { name: ep.name, method: ep.method, path: endpointPath(baseUrl, ep, ep.name === 'create' ? undefined : IMPOSSIBLE_ID), route: endpointPath(baseUrl, ep), host: baseUrl.host, baseUrl: baseUrl.href };
    const base = {
      name: ep.name,
      method: ep.method,
      path: endpointPath(baseUrl, ep),
      required: ep.required,
      status: exchange?.status ?? null,
      request_id: exchange?.requestId ?? null,
      ms: exchange ? Math.round(exchange.durationMs) : null,
    };
    if (answer !== undefined) results.push({ ...base, ...(await accepted(client, ep, call, answer)) });
    else results.push({ ...base, ...classifyFailure(ep, { ...call, httpProxy }, error, keyGiven, watch) });
  }
  return withApiProvenPath(results, baseUrl);
}

/**
 * One base URL leads to one server: when the API itself answered one probe, another probe's
 * unmarked answer on that same base URL (a 403 to POST while GET reaches the API) came from
 * something in between that filters calls (a gateway's method or path policy) or could not
 * reach the API (its 5xx), not from a wrong server. When no probe reached the API, check has
 * the evidence a run lacks: every call was answered by something else, so the base URL is the
 * first suspect.
 */
function withApiProvenPath(results: EndpointResult[], baseUrl: URL): EndpointResult[] {
  const reached = results.find((r) => r.answered_by === 'api');
  const unmarked = (r: EndpointResult) => r.answered_by === 'other' && (r.cause === 'not_api' || r.cause === 'wrong_path') && r.status !== null && r.status >= 400;
  const quoted = (r: EndpointResult) => (r.detail.includes(': "') ? `: ${r.detail.slice(r.detail.indexOf(': "') + 2)}` : '');
  if (reached === undefined) {
    const advice = baseUrlAdvice({ name: '', method: '', path: '', route: '', host: baseUrl.host, baseUrl: baseUrl.href });
    return results.map((r) =>
      unmarked(r) && (r.status as number) < 500 ? { ...r, hint: `no probe reached the API at this base URL: ${advice}; if the base URL is right, something in between answers in the API's place` } : r,
    );
  }
  return results.map((r) => {
    if (!unmarked(r)) return r;
    const status = r.status as number;
    if (status >= 500) {
      return {
        ...r,
        verdict: 'unreachable',
        cause: 'gateway_error',
        detail: `HTTP ${status} from something in between, not the API (the API itself answered ${reached.name} on this base URL)${quoted(r)}`,
        hint: `a gateway between this machine and the API could not reach it for ${r.method} ${r.path}, or failed: try again, or ask whoever runs it`,
      };
    }
    return {
      ...r,
      verdict: 'blocked',
      cause: 'refused_in_between',
      detail: `HTTP ${status} from something in between, not the API (the API itself answered ${reached.name} on this base URL)${quoted(r)}`,
      hint: `a filter between this machine and the API refuses ${r.method} ${r.path}: the egress policy must allow ${r.method} ${r.path} on ${baseUrl.host}`,
    };
  });
}

type Judgement = Pick<EndpointResult, 'verdict' | 'cause' | 'answered_by' | 'detail' | 'hint'>;

/**
 * A 2xx to a probe the API always refuses: whatever answered is not the API. A create it
 * accepted may have started work (and, behind a real model, spent tokens): cancel it now.
 */
async function accepted(client: ResponsesClient, ep: Endpoint, call: CallDescription, answer: ApiAnswer): Promise<Judgement> {
  const id = answer.response.id;
  const hint = `a server that is not the OpenAI API answers at ${call.baseUrl}; ${baseUrlAdvice(call)}`;
  if (ep.name !== 'create') {
    const other = id !== IMPOSSIBLE_ID;
    return {
      verdict: 'wrong-server',
      cause: other ? 'other_id' : 'probe_accepted',
      answered_by: 'other',
      detail: other
        ? `HTTP ${answer.status} about response ${JSON.stringify(id.slice(0, 80))}, not the id asked for: not the API`
        : `HTTP ${answer.status} for a response that cannot exist: not the API`,
      hint,
    };
  }
  let cancelled: string;
  try {
    const after = await client.cancel(id);
    cancelled = `bgprobe cancelled it (status ${JSON.stringify(String(after.response.status ?? '(none)'))})`;
  } catch (error) {
    cancelled = `cancelling it failed (${error instanceof Error ? error.message.slice(0, 160) : String(error)}); cancel it with "bgprobe cancel ${id}"`;
  }
  return {
    verdict: 'wrong-server',
    cause: 'probe_accepted',
    answered_by: 'other',
    detail: `HTTP ${answer.status}: it accepted an empty create the API always refuses, and made response ${JSON.stringify(id.slice(0, 80))}; ${cancelled}. Tokens may have been spent if a model runs behind it`,
    hint,
  };
}

function classifyFailure(ep: Endpoint, call: CallDescription, error: unknown, keyGiven: boolean, watch: TunnelWatch | undefined): Judgement {
  if (error instanceof ApiError) return classifyHttp(ep, call, error, keyGiven);
  if (error instanceof NotApiAnswerError) {
    const by = error.origin.by === 'api' ? 'other' : error.origin.by;
    if (error.html) return { verdict: 'blocked', cause: 'non_api_page', answered_by: by, detail: `HTTP ${error.status} with a web page, not the API: "${error.words}"`, hint: error.message };
    return { verdict: 'wrong-server', cause: 'probe_accepted', answered_by: by, detail: `HTTP ${error.status} to a probe the API always refuses: not the API`, hint: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  const refused = error instanceof NetworkError && error.stage === 'proxy' && (watch?.observations.lastAnswer?.status ?? 200) !== 200;
  if (refused) return { verdict: 'blocked', cause: 'tunnel_refused', answered_by: 'proxy', detail: 'the proxy refused the tunnel', hint: message };
  return { verdict: 'unreachable', cause: 'no_answer', answered_by: null, detail: 'no HTTP answer', hint: message };
}

function classifyHttp(ep: Endpoint, call: CallDescription, error: ApiError, keyGiven: boolean): Judgement {
  const status = error.status;
  const by = error.details.answeredBy ?? 'other';
  const words = error.details.words ?? '';
  if (by !== 'api') {
    if (status >= 300 && status < 400) return { verdict: 'blocked', cause: 'redirect', answered_by: by, detail: `HTTP ${status}, a redirect instead of the API's answer`, hint: error.message };
    if (status === 407 && call.httpProxy !== true) {
      return { verdict: 'blocked', cause: 'proxy_auth_unconfigured', answered_by: by, detail: `HTTP 407 with no HTTP proxy in use, not the API: something on the way or the server at the base URL wants proxy credentials: "${words}"`, hint: error.message };
    }
    if (by === 'proxy') {
      // A gateway's 5xx means it could not reach the API, not that a policy refused the call.
      if (status >= 500) return { verdict: 'unreachable', cause: 'gateway_error', answered_by: by, detail: `HTTP ${status} from a proxy, not the API: "${words}"`, hint: error.message };
      return { verdict: 'blocked', cause: 'proxy_refused', answered_by: by, detail: `HTTP ${status} from a proxy, not the API: "${words}"`, hint: error.message };
    }
    const page = /\bHTML page\b/.test(error.message) || /^text\/html/i.test(error.details.contentType ?? '');
    if (page && !NOT_SERVED.has(status)) return { verdict: 'blocked', cause: 'non_api_page', answered_by: by, detail: `HTTP ${status} with a web page, not the API: "${words}"`, hint: error.message };
    return { verdict: 'wrong-server', cause: status === 404 ? 'wrong_path' : 'not_api', answered_by: by, detail: `HTTP ${status} from a server that is not the API: "${words}"`, hint: error.message };
  }
  if (status === 401 && !keyGiven) {
    return { verdict: 'ok', cause: 'api_key_not_checked', answered_by: by, detail: 'the API answered HTTP 401 (no key sent): the path works, key not checked', hint: null };
  }
  if (status === 401 || status === 403) {
    return { verdict: 'auth', cause: 'key_refused', answered_by: by, detail: `the API refused the key: HTTP ${status} ${words}`, hint: 'the path works; check OPENAI_API_KEY (and OPENAI_ORG_ID / OPENAI_PROJECT_ID)' };
  }
  if (isInvalidUrl(error) || status === 405 || (ep.name === 'create' && status === 404)) {
    return { verdict: 'wrong-server', cause: 'wrong_path', answered_by: by, detail: `the API answered HTTP ${status}: "${words}": no such path`, hint: baseUrlAdvice(call) };
  }
  const expected = ep.name === 'create' ? status === 400 : status === 404 || status === 400;
  if (expected) {
    const named = (words.match(/resp_[A-Za-z0-9_-]+/g) ?? []).filter((id) => id !== IMPOSSIBLE_ID);
    if (ep.name !== 'create' && named.length > 0 && !words.includes(IMPOSSIBLE_ID)) {
      return { verdict: 'wrong-server', cause: 'other_id', answered_by: by, detail: `HTTP ${status} about ${named[0]}, not the id asked for: not the API`, hint: `a server that is not the OpenAI API answers at ${call.baseUrl}; ${baseUrlAdvice(call)}` };
    }
    return { verdict: 'ok', cause: 'api_answered', answered_by: by, detail: `the API answered HTTP ${status}, as expected for this probe${keyGiven ? ' (key accepted)' : ''}`, hint: null };
  }
  if (status === 429 && isQuotaError(error)) {
    // Not retried by a run either: check must not promise that one can start.
    return { verdict: 'auth', cause: 'quota_exhausted', answered_by: by, detail: `the API answered HTTP 429: ${words}`, hint: "the path works, but the key's account has no quota or credit left: see the account's billing page" };
  }
  if (status === 429 || status >= 500) {
    // The API itself answered, so egress works; but a 429 or 5xx is not what this probe expects: say so, with its words.
    return { verdict: 'ok', cause: 'api_busy', answered_by: by, detail: `the API answered HTTP ${status}, not the ${ep.name === 'create' ? '400' : '404'} this probe expects: the path works, but ${words || 'see the status'}`, hint: null };
  }
  return { verdict: 'wrong-server', cause: 'unexpected_api_answer', answered_by: by, detail: `HTTP ${status} with the API's marks, which the API does not answer on a valid path: "${words}"`, hint: error.message };
}

/** When an earlier stage failed, every endpoint gets that stage's verdict without sending anything. */
export function notProbed(baseUrl: URL, verdict: Verdict, detail: string, hint: string): EndpointResult[] {
  return ENDPOINTS.map((ep) => ({
    name: ep.name,
    method: ep.method,
    path: endpointPath(baseUrl, ep),
    required: ep.required,
    verdict,
    cause: 'stage_failed',
    status: null,
    answered_by: verdict === 'blocked' ? 'proxy' : null,
    request_id: null,
    ms: null,
    detail,
    hint,
  }));
}
