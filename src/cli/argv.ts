import { UsageError } from '../errors.js';

/**
 * Prepares argv for cac and keeps every valued flag's text exactly as typed: cac's parser
 * turns "007" into 7 and "1e3" into 1000, which would lose what the user wrote.
 */
export interface PreparedArgv {
  /** argv with `--flag value` joined into `--flag=value` for valued flags, so "-5" stays a value. */
  readonly argv: string[];
  /** camelCase flag name → the raw text given, or true when the flag had no value. */
  readonly raw: ReadonlyMap<string, string | true>;
}

export function prepareArgv(args: readonly string[], valuedFlags: ReadonlySet<string>): PreparedArgv {
  const out: string[] = [];
  const raw = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as string;
    if (token === '--') {
      out.push(...args.slice(i));
      break;
    }
    const match = /^--([^=]+)(?:=([\s\S]*))?$/.exec(token);
    const name = match?.[1];
    if (!match || name === undefined || !valuedFlags.has(name)) {
      out.push(token);
      continue;
    }
    let value: string | true = match[2] ?? true;
    const next = args[i + 1];
    if (value === true && next !== undefined && !next.startsWith('--')) {
      value = next;
      i += 1;
    }
    const key = camelCase(name);
    if (raw.has(key)) throw new UsageError(`--${name} is given more than once; give it once`);
    raw.set(key, value);
    out.push(value === true ? `--${name}` : `--${name}=${value}`);
  }
  return { argv: out, raw };
}

export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
