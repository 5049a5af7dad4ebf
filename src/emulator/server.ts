import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { faultFor, type FaultAction, type FaultCall, type Fault } from './faults.js';
import { defaultAnswer, errorEnvelope, inputText, isObject, newId, requestId, responseObject, type StoredResponse } from './objects.js';
import { planEvents, refusal, sendStream, type StreamSource } from './stream.js';

/** How the emulated background lifecycle unfolds. */
export interface EmulatorOptions {
  /** Loopback address to listen on. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** How long a new response stays `queued`. */
  readonly queuedMs?: number;
  /** How long it then stays `in_progress`. */
  readonly inProgressMs?: number;
  /** The terminal status it reaches: completed, failed, incomplete, cancelled, or any other string. */
  readonly finalStatus?: string;
  /** The model's answer; by default a short text that echoes the question. */
  readonly outputText?: string;
  /** Keys the emulator accepts; by default any bearer key. A refused key gets the API's 401. */
  readonly acceptKey?: (key: string) => boolean;
  /** Serve HTTPS with this key and certificate (PEM), as the real API does; tests make a test CA for it. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** A response stays in_progress forever: for deadlines and interrupts. */
  readonly neverFinish?: boolean;
  /**
   * Instead of the clock, the number of retrieves a response stays pending for: queued when
   * created, in_progress for this many GETs, then the final status. Tests use it so that
   * they do not depend on how fast a child process starts.
   */
  readonly pendingPolls?: number;
  /** Scripted faults on chosen calls (see faults.ts). */
  readonly faults?: readonly Fault[];
  /** Told once per request when its answer ends (or its connection closes without one): `emulate` logs it. */
  readonly onRequest?: (served: ServedRequest) => void;
}

/** One request as `emulate` logs it. */
export interface ServedRequest {
  readonly method: string;
  /** The request target as sent, query included. */
  readonly url: string;
  /** Undefined when the connection closed before an answer (the `drop` fault, a client gone). */
  readonly status: number | undefined;
  readonly durationMs: number;
}

/** One request as the emulator saw it, for tests to assert what was (or was not) sent. */
interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** The query string without its `?` (`stream=true&starting_after=4`), empty when none. */
  readonly query: string;
  /** Date.now() when its body had arrived, for benchmarks that time the server's side. */
  readonly receivedAt: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface Emulator {
  /** Base URL to give bgprobe, ending in /v1. */
  readonly baseUrl: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export const EMULATOR_DEFAULTS = Object.freeze({ queuedMs: 1000, inProgressMs: 2000, finalStatus: 'completed' });

const ROUTES = [
  { method: 'POST', pattern: /^\/v1\/responses$/, handler: 'create', call: 'create' },
  { method: 'GET', pattern: /^\/v1\/responses\/([^/]+)$/, handler: 'retrieve', call: 'poll' },
  { method: 'POST', pattern: /^\/v1\/responses\/([^/]+)\/cancel$/, handler: 'cancel', call: 'cancel' },
] as const;

const MISSING_KEY =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";

interface Entry {
  stored: StoredResponse;
  /** Set when cancelled or otherwise fixed; else the status follows the clock. */
  pinnedStatus: string | undefined;
  /** Creation time in ms; the object's created_at is whole seconds, as the API's is. */
  createdMs: number;
  /** Retrieves answered so far. */
  polls: number;
  /** The events of a response created with `stream: true`, planned at its first stream. */
  plan?: ReturnType<typeof planEvents>;
}

/** Starts the emulator on loopback and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const settings = { ...EMULATOR_DEFAULTS, ...stripUndefined(options) };
  const entries = new Map<string, Entry>();
  const requests: RecordedRequest[] = [];
  let connections = 0;

  const statusOf = (entry: Entry, now: number): string => {
    if (entry.pinnedStatus) return entry.pinnedStatus;
    if (!entry.stored.background) return settings.finalStatus;
    if (settings.pendingPolls !== undefined) {
      if (entry.polls > settings.pendingPolls) return settings.finalStatus;
      return entry.polls === 0 ? 'queued' : 'in_progress';
    }
    const age = now - entry.createdMs;
    if (age < settings.queuedMs) return 'queued';
    if (settings.neverFinish || age < settings.queuedMs + settings.inProgressMs) return 'in_progress';
    return settings.finalStatus;
  };

  const handlers = {
    create(_match: RegExpExecArray, body: string): [number, unknown] {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return [400, errorEnvelope("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", 'invalid_request_error')];
      }
      if (!isObject(parsed)) return [400, errorEnvelope('The request body must be a JSON object.', 'invalid_request_error')];
      for (const field of ['model', 'input']) {
        if (parsed[field] === undefined || parsed[field] === null || parsed[field] === '') {
          return [400, errorEnvelope(`Missing required parameter: '${field}'.`, 'invalid_request_error', field, 'missing_required_parameter')];
        }
      }
      if (parsed['background'] === true && parsed['store'] === false) {
        // Our own wording: the real API's message for this case is not documented.
        return [400, errorEnvelope('background=true requires store=true', 'invalid_request_error', 'background', 'unsupported_parameter')];
      }
      const createdMs = Date.now();
      const stored: StoredResponse = {
        id: newId('resp'),
        createdAt: Math.floor(createdMs / 1000),
        model: String(parsed['model']),
        background: parsed['background'] === true,
        body: parsed,
        outputText: settings.outputText ?? defaultAnswer(parsed),
        inputTokens: Math.max(1, Math.ceil(inputText(parsed).length / 4)),
      };
      const entry: Entry = { stored, pinnedStatus: undefined, createdMs, polls: 0 };
      entries.set(stored.id, entry);
      return [200, render(entry)];
    },
    retrieve(match: RegExpExecArray): [number, unknown] {
      const entry = entries.get(decodeURIComponent(match[1] ?? ''));
      if (entry) entry.polls += 1;
      return entry ? [200, render(entry)] : notFound(match[1] ?? '');
    },
    cancel(match: RegExpExecArray): [number, unknown] {
      const entry = entries.get(decodeURIComponent(match[1] ?? ''));
      if (!entry) return notFound(match[1] ?? '');
      if (!entry.stored.background) {
        return [400, errorEnvelope('Only responses created with background=true can be cancelled.', 'invalid_request_error')];
      }
      const status = statusOf(entry, Date.now());
      if (status === 'queued' || status === 'in_progress') entry.pinnedStatus = 'cancelled';
      else if (status !== 'cancelled') return [400, errorEnvelope(`Cannot cancel a ${status} response.`, 'invalid_request_error')];
      return [200, render(entry)];
    },
  };

  function render(entry: Entry): Record<string, unknown> {
    const now = Date.now();
    // completed_at is when the clock made it complete, not when it was asked (stream timing compares the two).
    const byClock = entry.pinnedStatus === undefined && settings.pendingPolls === undefined && entry.stored.background;
    const finishedMs = byClock ? Math.min(now, entry.createdMs + settings.queuedMs + settings.inProgressMs) : now;
    return responseObject(entry.stored, statusOf(entry, now), Math.floor(finishedMs / 1000));
  }

  const callCounts: Record<FaultCall, number> = { create: 0, poll: 0, cancel: 0, stream: 0 };

  /** The stream of a response as stream.ts sends it: its times from the emulator's settings. */
  function streamSource(entry: Entry): StreamSource {
    const queuedMs = entry.stored.background ? settings.queuedMs : 0;
    return {
      stored: entry.stored,
      createdMs: entry.createdMs,
      queuedMs,
      finishMs: queuedMs + (entry.stored.background ? settings.inProgressMs : 0),
      finalStatus: settings.finalStatus,
      neverFinish: settings.neverFinish === true,
      pinned: () => entry.pinnedStatus,
      pin: (status) => {
        entry.pinnedStatus = status;
      },
    };
  }

  /** A create with `stream: true` or a retrieve with `?stream=true`: answered as events (stream.ts). */
  function serveStream(res: ServerResponse, query: URLSearchParams, payload: unknown, fault: FaultAction | undefined, started: number): void {
    const entry = isObject(payload) ? entries.get(String(payload['id'])) : undefined;
    if (!entry) {
      send(res, 500, errorEnvelope('emulator: no such response', 'server_error'), started);
      return;
    }
    const isRetrieve = query.has('stream');
    if (isRetrieve && entry.stored.body['stream'] !== true) {
      send(res, ...refusal('not-streamed', entry.stored.id), started);
      return;
    }
    if (fault?.kind === 'too-old') {
      send(res, ...refusal('too-old', entry.stored.id), started);
      return;
    }
    const after = Number(query.get('starting_after'));
    const startingAfter = isRetrieve && query.has('starting_after') && Number.isInteger(after) ? after : undefined;
    entry.plan ??= planEvents(streamSource(entry), fault);
    sendStream(res, streamSource(entry), startingAfter, fault, entry.plan, started).catch(() => res.destroy());
  }

  const listener: RequestListener = (req, res) => {
    const started = performance.now();
    if (options.onRequest) reportWhenDone(req, res, started, options.onRequest);
    readBody(req).then(async (body) => {
      const [path = '/', search = ''] = (req.url ?? '/').split('?');
      requests.push({ method: req.method ?? '', path, query: search, receivedAt: Date.now(), headers: { ...req.headers }, body });
      const route = routeOf(req, path);
      const query = new URLSearchParams(search);
      const streaming = route !== undefined && wantsStream(route.r.call, query, body);
      const streamFault = streaming ? faultFor(settings.faults ?? [], 'stream', ++callCounts.stream) : undefined;
      const callFault = route ? faultFor(settings.faults ?? [], route.r.call, ++callCounts[route.r.call]) : undefined;
      const fault = streamFault ?? callFault;
      if (fault?.kind === 'status') return send(res, fault.status, faultEnvelope(fault), started, retryHeaders(fault));
      // unref: a slow answer still pending must not keep a closed emulator's process alive.
      if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.delayMs).unref());
      const [status, payload] = dispatch(req, path, body);
      if (fault?.kind === 'drop') return void req.socket.destroy();
      if (fault?.kind === 'not-json') return sendHtml(res);
      if (streaming && status === 200) return serveStream(res, query, payload, fault, started);
      send(res, status, status === 200 ? corrupt(payload, fault) : payload, started, {}, fault?.kind === 'large' ? fault.bytes : 0);
    }, () => res.destroy());
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createServer(listener);

  function routeOf(req: IncomingMessage, path: string) {
    return ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m && x.r.method === req.method);
  }

  function dispatch(req: IncomingMessage, path: string, body: string): [number, unknown] {
    const route = routeOf(req, path);
    if (!route?.m) return [404, errorEnvelope(`Invalid URL (${req.method} ${path})`, 'invalid_request_error')];
    const key = bearerKey(req.headers.authorization);
    if (key === undefined) return [401, errorEnvelope(MISSING_KEY, 'invalid_request_error')];
    if (options.acceptKey && !options.acceptKey(key)) {
      const masked = key.length > 8 ? `${key.slice(0, 3)}...${key.slice(-4)}` : '***';
      return [401, errorEnvelope(`Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', null, 'invalid_api_key')];
    }
    return handlers[route.r.handler](route.m, body);
  }

  server.on(options.tls ? 'secureConnection' : 'connection', () => {
    connections += 1;
  });
  // Keep idle connections open across polls minutes apart, as the real API's edge does.
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = 10 * 60_000 + 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port ?? 0, settings.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    baseUrl: `${options.tls ? 'https' : 'http'}://${host}:${address.port}/v1`,
    port: address.port,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function reportWhenDone(req: IncomingMessage, res: ServerResponse, started: number, onRequest: (served: ServedRequest) => void): void {
  res.once('close', () => {
    const durationMs = performance.now() - started;
    onRequest({ method: req.method ?? '', url: req.url ?? '/', status: res.writableFinished ? res.statusCode : undefined, durationMs });
  });
}

/** Whether a request asks for an event stream: a create whose body says `stream: true`, a retrieve with `?stream=true`. */
function wantsStream(call: FaultCall, query: URLSearchParams, body: string): boolean {
  if (call === 'poll') return query.get('stream') === 'true';
  if (call !== 'create') return false;
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) && parsed['stream'] === true;
  } catch {
    return false;
  }
}

function notFound(id: string): [number, unknown] {
  return [404, errorEnvelope(`Response with id '${decodeURIComponent(id)}' not found.`, 'invalid_request_error')];
}

function bearerKey(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** The Response object as a faulty server or proxy would garble it. */
function corrupt(payload: unknown, fault: FaultAction | undefined): unknown {
  if (!fault || !isObject(payload)) return payload;
  if (fault.kind === 'no-status') return Object.fromEntries(Object.entries(payload).filter(([key]) => key !== 'status'));
  if (fault.kind === 'wrong-id') return { ...payload, id: newId('resp') };
  if (fault.kind === 'set-status') return { ...payload, status: fault.status };
  return payload;
}

/** The envelope the API sends with these statuses, from the reference captures. */
function faultEnvelope(fault: Extract<FaultAction, { kind: 'status' }>) {
  if (fault.quota) return errorEnvelope('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', null, 'insufficient_quota');
  if (fault.status === 429) return errorEnvelope('Rate limit reached for requests. Please try again in 1s.', 'requests', null, 'rate_limit_exceeded');
  if (fault.status === 503) return errorEnvelope('The engine is currently overloaded, please try again later', 'server_error');
  if (fault.status >= 500) return errorEnvelope('The server had an error while processing your request. Sorry about that!', 'server_error');
  return errorEnvelope(`Emulated HTTP ${fault.status} (bgprobe emulate --fault).`, 'invalid_request_error');
}

function retryHeaders(fault: Extract<FaultAction, { kind: 'status' }>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = fault.retryAfterMs;
  return headers;
}

function sendHtml(res: ServerResponse): void {
  const text = '<html><body><h1>Access denied</h1><p>This page was sent by the emulator (--fault not-json).</p></body></html>';
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** `padTo`: trailing JSON whitespace up to that many bytes, for the `large` fault. */
function send(res: ServerResponse, status: number, payload: unknown, started: number, extraHeaders: Record<string, string> = {}, padTo = 0): void {
  const json = JSON.stringify(payload);
  const text = json + ' '.repeat(Math.max(0, padTo - Buffer.byteLength(json)));
  res.writeHead(status, {
    ...extraHeaders,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId(),
    'openai-version': '2020-10-01',
    'openai-organization': 'org-emulator',
    'openai-processing-ms': String(Math.max(1, Math.round(performance.now() - started))),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
