import { UsageError } from '../errors.js';

/**
 * The largest number of seconds any duration flag accepts: one week. Besides catching typos,
 * it keeps every timer far below setTimeout's limit (2^31 - 1 ms, about 24.8 days), past which
 * Node fires the timer at once instead of waiting.
 */
const MAX_SECONDS = 7 * 24 * 3600;

/** Below a millisecond, a duration rounds to zero: a timeout that fires at once, a poll loop that never rests. */
const MIN_SECONDS = 0.001;

const SECONDS_FORM = 'give a positive number of seconds such as 10 or 0.5';

/**
 * A positive number of seconds, decimals allowed, as typed by the user. Refuses 0, negatives,
 * NaN, Infinity, hex and exponents, less than a millisecond and anything over a week.
 */
export function parseSeconds(flag: string, raw: string): number {
  const text = raw.trim();
  if (/^-\s*(\d|\.\d)/.test(text)) throw new UsageError(`${flag} ${JSON.stringify(raw)} is negative; ${SECONDS_FORM}`);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) throw new UsageError(`${flag} ${JSON.stringify(raw)} is not a number of seconds; ${SECONDS_FORM}`);
  const value = Number(text);
  if (!(value > 0)) throw new UsageError(`${flag} ${JSON.stringify(raw)} must be greater than 0; ${SECONDS_FORM}`);
  if (value < MIN_SECONDS) throw new UsageError(`${flag} ${JSON.stringify(raw)} is less than a millisecond; ${SECONDS_FORM}`);
  if (value > MAX_SECONDS) throw new UsageError(`${flag} ${JSON.stringify(raw)} is more than a week; give at most ${MAX_SECONDS} seconds`);
  return value;
}

/** A whole number within bounds, as typed by the user. */
export function parseWholeNumber(flag: string, raw: string, min: number, max: number): number {
  const text = raw.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${flag} ${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** One of a fixed set of values. */
export function parseChoice(flag: string, raw: string, choices: readonly string[]): string {
  if (!choices.includes(raw)) throw new UsageError(`${flag} ${JSON.stringify(raw)} is not accepted; use one of: ${choices.join(', ')}`);
  return raw;
}

/** An http(s) base URL without query or fragment; the path (usually /v1) is kept. */
export function parseBaseUrl(flag: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(raw)} is not a URL; give one such as https://api.openai.com/v1`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${flag} ${JSON.stringify(raw)} must start with https:// (or http:// for a local server)`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new UsageError(`${flag} ${JSON.stringify(raw)} must not carry a query, fragment or credentials; give one such as https://api.openai.com/v1`);
  }
  return url;
}

/**
 * Refuses a plain http:// base URL to a host that is not loopback, unless the user said so:
 * the API key would cross the network in clear text.
 */
export function requireSafeTransport(source: string, url: URL, allowInsecureHttp: boolean): void {
  if (url.protocol !== 'http:' || allowInsecureHttp || isLoopbackHost(url.hostname)) return;
  throw new UsageError(
    `${source} ${JSON.stringify(url.href)} is plain http:// to ${url.host}, which is not loopback: the API key would cross the network unencrypted; use https://, or add --allow-insecure-http if you mean it`,
  );
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1 (also as an IPv4-mapped address), as URL writes them. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (/^127(\.\d{1,3}){3}$/.test(host)) return true;
  return host === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host);
}

/** Non-empty text. */
export function parseText(flag: string, raw: string): string {
  if (raw.trim() === '') throw new UsageError(`${flag} is empty; give some text`);
  return raw;
}

/**
 * A response id as given on the command line. Ids from the API look like `resp_<hex>`, but a
 * proxy in front of it may issue others, so any visible text without spaces or URL delimiters is accepted.
 */
export function parseResponseId(command: string, raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') throw new UsageError(`${command} needs a response id; write bgprobe ${command} resp_...`);
  const id = raw.trim();
  // `.` and `..` are path segments, not ids: a URL resolves them, so `GET /v1/responses/..` would leave the endpoint table.
  if (id.length > 256 || !/^[\x21-\x7e]+$/.test(id) || /[/?#]/.test(id) || id === '.' || id === '..') {
    throw new UsageError(`${JSON.stringify(raw)} is not a response id; give the id bgprobe printed, such as resp_68f3a1c2d4e5`);
  }
  return id;
}
