import type { ControlMatch } from './egress/controls.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { oneLine } from './text.js';

/** Base of every error bgprobe raises on purpose: a stable `code`, an exit code, a message fit for one line. */
export class BgprobeError extends Error {
  override name = 'BgprobeError';
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(message: string, code: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** The user asked for something malformed; nothing has been sent. */
export class UsageError extends BgprobeError {
  override name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'usage', EXIT.usage, options);
  }
}

/** A runtime precondition failed before any request (missing key, unwritable report). */
export class SetupError extends BgprobeError {
  override name = 'SetupError';
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, code, EXIT.failure, options);
  }
}

/** The `{ error: {...} }` envelope the OpenAI API sends with every error status. */
export interface ApiErrorBody {
  message: string;
  type: string | null;
  param: string | null;
  code: string | null;
}

interface HttpFailureDetails {
  method: string;
  path: string;
  status: number;
  requestId: string | undefined;
  /** The parsed envelope, when the body carried one. */
  apiError: ApiErrorBody | undefined;
  contentType: string | undefined;
  /** The first bytes of a body that was not an API envelope (an HTML block page, say). */
  bodySnippet: string | undefined;
  headers: Readonly<Record<string, string>>;
  /** Who sent the answer: the API, a proxy, or another server (src/egress/answer-origin.ts). */
  answeredBy?: 'api' | 'proxy' | 'other' | undefined;
  /** The answer's own words in one short line (an HTML page reduced to its text). */
  words?: string | undefined;
  /** The egress diagnosis that replaces the message when something in between refused the call. */
  diagnosis?: string | undefined;
  /** The egress control recognised in the answer (src/egress/controls.ts). */
  control?: ControlMatch | undefined;
}

/** An HTTP answer with a non-2xx status. */
export class ApiError extends BgprobeError {
  override name = 'ApiError';
  readonly details: HttpFailureDetails;
  constructor(details: HttpFailureDetails) {
    super(describeHttpFailure(details), `http_${details.status}`, EXIT.failure);
    this.details = details;
  }
  get status(): number {
    return this.details.status;
  }
  get requestId(): string | undefined {
    return this.details.requestId;
  }
}

function describeHttpFailure(d: HttpFailureDetails): string {
  const where = `${d.method} ${d.path}`;
  if (d.diagnosis) return d.diagnosis;
  if (d.status >= 300 && d.status < 400) {
    const location = d.headers['location'];
    return `${where} answered HTTP ${d.status}, a redirect to ${location ? redirectTarget(location) : 'an unnamed location'}; bgprobe never follows redirects, so the API key goes nowhere else: check --base-url`;
  }
  const id = d.requestId ? ` (x-request-id ${d.requestId})` : '';
  if (d.apiError) {
    // Answers that are not the API's get their diagnosis above (src/egress/answer-origin.ts): this one is the API's own.
    return `${where} failed: the API answered HTTP ${d.status} ${d.apiError.type ?? 'error'}: ${clip(d.apiError.message)}${id}`;
  }
  const body = d.bodySnippet ?? '';
  const kind = body.length === 0 ? 'an empty body' : d.contentType ? `a ${d.contentType.split(';')[0]} body` : 'a body';
  const title = pageTitle(body);
  const titled = title ? ` (page title ${JSON.stringify(title)})` : '';
  return `${where} failed: HTTP ${d.status} with ${kind}${titled}, not the API's JSON error envelope, though the answer carried the API's marks${id}`;
}

/** A server's message, cut short: one line of diagnosis, not a page a hostile server chose. */
function clip(message: string, max = 500): string {
  return message.length > max ? `${message.slice(0, max)}... (${message.length - max} more characters)` : message;
}

/** The host a redirect points to; a relative Location stays on the host that sent it. */
function redirectTarget(location: string): string {
  try {
    return new URL(location).host || JSON.stringify(location);
  } catch {
    return `${JSON.stringify(location.slice(0, 100))} on the same host`;
  }
}

/** The <title> of an HTML page (a proxy's block page, a login portal), trimmed to one short line. */
export function pageTitle(body: string): string | undefined {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body.slice(0, 4096))?.[1]?.replace(/\s+/g, ' ').trim();
  return title ? title.slice(0, 120) : undefined;
}

/** Where on the way to the API a network failure happened. */
export type NetworkStage = 'dns' | 'connect' | 'proxy' | 'tls' | 'timeout' | 'socket' | 'unknown';

/** No HTTP answer arrived: DNS, TCP, proxy, TLS, timeout or a dropped connection. */
export class NetworkError extends BgprobeError {
  override name = 'NetworkError';
  readonly stage: NetworkStage;
  /** True when the request may have reached the server (matters for retrying a create). */
  readonly maybeDelivered: boolean;
  /** The egress control recognised in what the network answered (src/egress/controls.ts). */
  readonly control: ControlMatch | undefined;
  constructor(message: string, stage: NetworkStage, maybeDelivered: boolean, options?: { cause?: unknown; control?: ControlMatch | undefined }) {
    super(message, `network_${stage}`, EXIT.failure, options);
    this.stage = stage;
    this.maybeDelivered = maybeDelivered;
    this.control = options?.control;
  }
}

/** A 2xx answer the API would never send: not JSON, no status, the wrong id. */
export class ProtocolError extends BgprobeError {
  override name = 'ProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'protocol', EXIT.failure, options);
  }
}

/** An error's message as one printable line (it may quote a server's answer): see `oneLine`. */
export function errorLine(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error));
}

/** Exit code for anything thrown: ours carry one, the rest are failures. */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof BgprobeError ? error.exitCode : EXIT.failure;
}
