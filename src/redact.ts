/**
 * The one place secrets are masked on the way out: console, report and error messages all
 * pass through a Redactor that knows the API key and any proxy passwords of the run.
 */
export class Redactor {
  readonly #secrets = new Map<string, string>();

  /** Registers a secret; every later `apply` masks it. Short values are ignored (they would mask common words). */
  add(secret: string | undefined): this {
    if (secret !== undefined && secret.length >= 6) this.#secrets.set(secret, maskSecret(secret));
    return this;
  }

  apply(text: string): string {
    let out = text;
    for (const [secret, mask] of this.#secrets) {
      if (out.includes(secret)) out = out.split(secret).join(mask);
    }
    // Whatever a server or proxy echoes back: never print a bearer credential, ours or not.
    return out.replace(/(Bearer\s+)([A-Za-z0-9._~+/=-]{20,})/gi, (_, prefix: string, token: string) => prefix + maskSecret(token));
  }
}

/** `sk-...abcd`: enough to tell keys apart, useless to anyone who reads it. */
export function maskSecret(secret: string): string {
  if (secret.length < 12) return '***';
  const prefix = /^sk-/.test(secret) ? 'sk-' : secret.slice(0, 2);
  return `${prefix}...${secret.slice(-4)}`;
}
