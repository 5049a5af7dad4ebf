import type { TextSink } from './io.js';

/** Environment variables whose whole value is a secret. */
const SECRET_VARIABLES: readonly string[] = ['OPENAI_API_KEY'];

/** Environment variables that may carry a proxy URL with a password in it. */
const PROXY_VARIABLES: readonly string[] = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'];

/** Any bearer credential, ours or not, that a server or proxy echoes back. */
const BEARER = /(Bearer\s+)([A-Za-z0-9._~+/=-]{20,})/gi;

/** The password part of any URL's userinfo (`scheme://user:password@host`), however short. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)([^\s/@]+)(@)/gi;

/** Secrets at least this long are masked wherever they appear; shorter ones where they stand alone. */
const MIN_ANYWHERE = 4;

/** A short secret not inside a longer word or number. */
function standingAlone(secret: string): RegExp {
  return new RegExp(`(?<![A-Za-z0-9])${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`, 'g');
}

/**
 * The one place secrets are masked on the way out: console, report and error messages all
 * pass through the Redactor of the process, which knows the API key (from the environment or a
 * .env file) and any proxy passwords of the run.
 */
export class Redactor {
  readonly #secrets = new Map<string, string>();

  /**
   * Registers a secret; every later `apply` masks it, whatever its length: a test key such as
   * `sk-1` is a key too. One of fewer than four characters is masked only where it stands
   * alone (not inside a longer word or number), so a one-letter proxy password cannot blank
   * every `a` of the output; inside a URL's userinfo or a Basic token it is masked regardless.
   */
  add(secret: string | undefined, mask: string = maskSecret(secret ?? '')): this {
    if (secret === undefined || secret.length === 0) return this;
    this.#secrets.set(secret, mask);
    // The same secret inside a JSON string (a --json object, a report payload) is escaped.
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) this.#secrets.set(escaped, mask);
    return this;
  }

  /**
   * Registers the credentials of a URL such as a proxy's `http://user:p%40ss@proxy:3128`: the
   * password as typed, decoded and percent-encoded, and the `Basic` tokens undici (or a proxy
   * echoing Proxy-Authorization) may show. Read by hand, not with `new URL`, so that a password
   * with an unencoded reserved character (`pa/ss`), which makes the URL invalid, is a secret
   * all the same. A value without a scheme (`user:pass@proxy:3128`, which curl accepts) counts too.
   */
  addUrlCredentials(raw: string | undefined): this {
    if (raw === undefined) return this;
    const rest = raw.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
    const at = rest.lastIndexOf('@');
    if (at === -1) return this;
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon === -1) return this;
    const user = userinfo.slice(0, colon);
    const password = userinfo.slice(colon + 1);
    if (password === '') return this;
    const decoded = safeDecode(password);
    // Masked whole: a password's first and last characters (or a Basic token's, which decode to
    // the password's last bytes) would tell too much; only the API key shows its tail, to tell keys apart.
    for (const form of new Set([password, decoded, encodeURIComponent(decoded)])) this.add(form, '***');
    for (const name of new Set([user, safeDecode(user)])) {
      for (const secret of new Set([password, decoded])) this.add(Buffer.from(`${name}:${secret}`).toString('base64'), '***');
    }
    return this;
  }

  /** Registers every secret an environment (real or a parsed .env file) carries. */
  addEnvironment(env: Readonly<Record<string, string | undefined>>): this {
    for (const name of SECRET_VARIABLES) {
      const value = env[name]?.trim();
      // A .env line with one stray quote keeps it in the value: mask the key inside as well.
      this.add(value).add(value?.replace(/^["'`]+|["'`]+$/g, ''));
    }
    for (const name of PROXY_VARIABLES) this.addUrlCredentials(env[name]);
    return this;
  }

  apply(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const [secret, mask] of [...this.#secrets].sort(([a], [b]) => b.length - a.length)) {
      if (!out.includes(secret)) continue;
      out = secret.length >= MIN_ANYWHERE ? out.split(secret).join(mask) : out.replace(standingAlone(secret), mask);
    }
    out = out.replace(URL_PASSWORD, (_, before: string, _password: string, at: string) => `${before}***${at}`);
    return out.replace(BEARER, (_, prefix: string, token: string) => prefix + maskSecret(token));
  }
}

/** `sk-...abcd`: enough to tell keys apart, useless to anyone who reads it. */
export function maskSecret(secret: string): string {
  if (secret.length < 12) return '***';
  const prefix = /^sk-/.test(secret) ? 'sk-' : secret.slice(0, 2);
  return `${prefix}...${secret.slice(-4)}`;
}

/**
 * A console stream whose every text write passes through the redactor first. It forwards
 * everything else (isTTY, columns, cursor methods) to the stream itself, so a command can use
 * whatever its stream offers and still never print a secret.
 */
export function redactedSink<T extends TextSink>(sink: T, redactor: Redactor): T {
  return new Proxy(sink, {
    get(target, property) {
      if (property === 'write') {
        return (chunk: unknown, ...rest: unknown[]) =>
          (target.write as (...args: unknown[]) => unknown)(typeof chunk === 'string' ? redactor.apply(chunk) : chunk, ...rest);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
