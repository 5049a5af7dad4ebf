import { UsageError } from '../errors.js';

/** The largest number of seconds any duration flag accepts: one week. */
const MAX_SECONDS = 7 * 24 * 3600;

/**
 * A positive number of seconds, decimals allowed, as typed by the user. Refuses 0, negatives,
 * NaN, Infinity, hex and exponents, and anything over a week.
 */
export function parseSeconds(flag: string, raw: string): number {
  const text = raw.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) {
    throw new UsageError(`${flag} ${JSON.stringify(raw)} is not a number of seconds; give a positive number such as 10 or 0.5`);
  }
  const value = Number(text);
  if (!(value > 0)) throw new UsageError(`${flag} ${JSON.stringify(raw)} must be greater than 0; give a positive number such as 10 or 0.5`);
  if (value > MAX_SECONDS) throw new UsageError(`${flag} ${JSON.stringify(raw)} is more than a week (${MAX_SECONDS} s); give a smaller number of seconds`);
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
  if (id.length > 256 || !/^[\x21-\x7e]+$/.test(id) || /[/?#]/.test(id)) {
    throw new UsageError(`${JSON.stringify(raw)} is not a response id; give the id bgprobe printed, such as resp_68f3a1c2d4e5`);
  }
  return id;
}
