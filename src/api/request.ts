import type { Dispatcher } from 'undici';
import { SetupError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import type { ClientOptions, SendOptions } from './client-types.js';
import { innerTimeout } from './dispatcher.js';

/*
 * One request as undici is given it: its headers, its options (both clocks of --timeout) and the
 * watch that tells when it was written. The client (client.ts) sends it.
 */

/** The request headers; refuses, before anything is sent, a key that no HTTP header can carry. */
export function requestHeaders(client: ClientOptions, options: SendOptions): Record<string, string> {
  const { apiKey, organization, project } = client;
  if (apiKey !== undefined && !HEADER_SAFE.test(apiKey)) {
    // Never quote the key: say what is wrong with it instead.
    throw new SetupError(
      'OPENAI_API_KEY contains a space, a quote mark, a line break or a non-ASCII character, so it cannot be sent; copy the key again (in .env, quote it as OPENAI_API_KEY="sk-...")',
      'invalid_key',
    );
  }
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': USER_AGENT,
    ...options.headers,
  };
  if (apiKey !== undefined) headers['authorization'] = `Bearer ${apiKey}`;
  if (organization) headers['openai-organization'] = organization;
  if (project) headers['openai-project'] = project;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return headers;
}

/** What an API key may contain: visible ASCII, as an HTTP header needs, but no quote marks or backslashes (a paste or .env slip). */
const HEADER_SAFE = /^[\x21\x23-\x26\x28-\x5b\x5d-\x5f\x61-\x7e]+$/;

/** undici's request options: both clocks of --timeout inside the hard deadline. */
export function requestOptions(
  client: ClientOptions,
  method: string,
  path: string,
  headers: Record<string, string>,
  options: SendOptions,
  signal: AbortSignal,
): Dispatcher.RequestOptions {
  const { baseUrl, timeoutMs } = client;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return { origin: baseUrl.origin, path, method: method as Dispatcher.HttpMethod, headers, body, signal, headersTimeout: innerTimeout(timeoutMs), bodyTimeout: innerTimeout(timeoutMs) };
}

/**
 * The dispatcher as `request` sees it, with its handler told when undici has written the whole
 * request (undici calls `onRequestSent` right after writing headers and body to the socket).
 * An error before that moment (DNS, TCP, the proxy's CONNECT, TLS, a failed write) delivered
 * nothing; one after it may have reached the server.
 */
export function watchWritten(dispatcher: Dispatcher, onWritten: () => void): Dispatcher {
  const dispatch = (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean => {
    const tracked = new Proxy(handler, {
      get(target, key) {
        if (key === 'onRequestSent') {
          return () => {
            onWritten();
            return (target as { onRequestSent?: () => void }).onRequestSent?.();
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return dispatcher.dispatch(opts, tracked);
  };
  return Object.create(dispatcher, { dispatch: { value: dispatch } }) as Dispatcher;
}
