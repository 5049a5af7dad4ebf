/**
 * The whole outbound surface of bgprobe: the only three calls it makes to the API.
 * The HTTP client, `policy`, `check`, the docs and the report all read this table,
 * so the egress allowlist it needs stays explicit and auditable.
 */
export interface Endpoint {
  readonly name: EndpointName;
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, as the API reference writes it without its `/v1` prefix. */
  readonly route: string;
  /** Needed for every run; `cancel` is only needed to cancel. */
  readonly required: boolean;
  /** Why bgprobe needs it, for `policy` and the docs. */
  readonly purpose: string;
}

export type EndpointName = 'create' | 'retrieve' | 'cancel';

export const ENDPOINTS: readonly Endpoint[] = Object.freeze([
  {
    name: 'create',
    method: 'POST',
    route: '/responses',
    required: true,
    purpose: 'submit the background response (returns its id)',
  },
  {
    name: 'retrieve',
    method: 'GET',
    route: '/responses/{response_id}',
    required: true,
    purpose: 'poll the response until it reaches a terminal status',
  },
  {
    name: 'cancel',
    method: 'POST',
    route: '/responses/{response_id}/cancel',
    required: false,
    purpose: 'cancel a running background response (--cancel-on-*, `bgprobe cancel`)',
  },
] satisfies Endpoint[]);

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export function endpoint(name: EndpointName): Endpoint {
  const found = ENDPOINTS.find((e) => e.name === name);
  if (!found) throw new Error(`no endpoint named ${name}`);
  return found;
}

/** The path prefix of a base URL, without a trailing slash (`/v1` for the default). */
function basePath(baseUrl: URL): string {
  return baseUrl.pathname.replace(/\/+$/, '');
}

/** The request path of an endpoint under a base URL, with `{response_id}` filled in when given. */
export function endpointPath(baseUrl: URL, ep: Endpoint, responseId?: string): string {
  const route = responseId === undefined ? ep.route : ep.route.replace('{response_id}', encodeURIComponent(responseId));
  return basePath(baseUrl) + route;
}
