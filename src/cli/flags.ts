import { UsageError } from '../errors.js';
import { COMMANDS, type CommandName } from './commands.js';

/**
 * The one adapter between the command line and the commands: it reads every flag itself, from
 * the declarations in src/cli/commands.ts, so that cac's quirks never reach a command. cac
 * (through mri) turns "007" into 7 and "1e3" into 1000, camel-cases names, gives every `--no-x`
 * a default of true, reads a switch typed twice as an array (which bgprobe once read as off),
 * and names an unknown flag in camelCase or without its `no-`. Here instead:
 * - a valued flag is the text typed, a string (`--flag value` or `--flag=value`), given once;
 * - a switch is `true` when typed, once or more, and absent otherwise; `--no-color` is `color: false`;
 * - a switch given a value (`--emulator=false`) is refused, never read as on or off;
 * - an unknown flag is named as typed, with the nearest known one suggested;
 * - anything after `--` is refused: bgprobe has no use for it, and ignoring it would drop what the user typed.
 * cac is left what it does well: matching the command and its positional arguments.
 */

/** Flag values exactly as typed: strings for valued flags, booleans for switches. Keys are camelCase. */
export type RawFlags = Readonly<Record<string, string | boolean | undefined>>;

/** What the command line says, read once. */
export interface CommandLine {
  /** The positional arguments, in order (a response id), for cac to match against the command's usage. */
  readonly positionals: readonly string[];
  readonly flags: RawFlags;
  /** `--help`/`-h` or `--version`/`-v` anywhere (before a refused `--`). */
  readonly help: boolean;
  readonly version: boolean;
}

interface FlagShape {
  /** `--timeout <seconds>` as declared, for messages. */
  readonly usage: string;
  readonly valued: boolean;
}

/** The flags a command declares, by the name typed (`no-color`, `base-url`). */
function declaredFlags(command: CommandName): ReadonlyMap<string, FlagShape> {
  const shapes = new Map<string, FlagShape>();
  for (const [usage] of COMMANDS[command].flags) {
    const name = /^--([\w-]+)/.exec(usage)?.[1];
    if (name !== undefined) shapes.set(name, { usage, valued: usage.includes('<') });
  }
  return shapes;
}

/** Reads the tokens after the command name. */
export function readCommandLine(command: CommandName, tokens: readonly string[]): CommandLine {
  const declared = declaredFlags(command);
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === '-h' || token === '--help') {
      help = true;
      continue;
    }
    if (token === '-v' || token === '--version') {
      version = true;
      continue;
    }
    if (token === '--') {
      if (help || version) break;
      const rest = tokens.slice(i + 1);
      throw new UsageError(
        `bgprobe ${command} takes nothing after "--"${rest.length > 0 ? ` (got ${JSON.stringify(rest.join(' '))})` : ''}; give flags before it, or remove it`,
      );
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    const match = /^--([^=]+)(?:=([\s\S]*))?$/.exec(token);
    const name = match?.[1];
    const shape = name === undefined ? undefined : declared.get(name);
    if (match === null || name === undefined || shape === undefined) {
      if (help || version || tokens.slice(i + 1).some((t) => t === '-h' || t === '--help' || t === '-v' || t === '--version')) continue;
      throw unknownFlag(command, token, declared);
    }
    const key = name === 'no-color' ? 'color' : camelCase(name);
    if (!shape.valued) {
      if (match[2] !== undefined) throw new UsageError(`--${name} is a switch and takes no value, got ${JSON.stringify(token)}; write --${name} alone`);
      flags[key] = name !== 'no-color';
      continue;
    }
    let value = match[2];
    const next = tokens[i + 1];
    if (value === undefined && next !== undefined && !next.startsWith('--')) {
      value = next;
      i += 1;
    }
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value (${shape.usage}); see bgprobe ${command} --help`);
    if (Object.hasOwn(flags, key)) throw new UsageError(`--${name} is given more than once; give it once`);
    flags[key] = value;
  }
  return { positionals, flags: Object.freeze(flags), help, version };
}

export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The value of a valued flag, or undefined when it was not given. `true` (a valued flag with
 * no value) cannot come from readCommandLine; it is refused here for callers that build flags by hand.
 */
export function stringFlag(flags: RawFlags, name: string, display: string): string | undefined {
  const value = flags[name];
  if (value === undefined || value === false) return undefined;
  if (value === true) throw new UsageError(`${display} needs a value; write ${display} VALUE or ${display}=VALUE`);
  return value;
}

function unknownFlag(command: CommandName, token: string, declared: ReadonlyMap<string, FlagShape>): UsageError {
  const typed = /^(-{1,2}[^=]*)/.exec(token)?.[1] ?? token;
  const name = typed.replace(/^-+/, '');
  const elsewhere = (Object.keys(COMMANDS) as CommandName[]).filter((other) => other !== command && declaredFlags(other).has(name));
  if (elsewhere.length > 0) {
    return new UsageError(`${typed} is not a flag of bgprobe ${command} (only of ${elsewhere.join(', ')}); see bgprobe ${command} --help`);
  }
  const nearest = nearestName(name, [...declared.keys(), 'help', 'version']);
  const hint = nearest === undefined ? '' : ` (did you mean --${nearest}?)`;
  return new UsageError(`unknown flag ${typed}${hint}; see bgprobe ${command} --help`);
}

/** The candidate closest to what was typed, when it is close enough to be a typo. */
export function nearestName(typed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(typed.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A third of the name, at least 2: `--pol-interval` finds --poll-interval, `--bogus` finds nothing.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(typed.length / 3)) ? best : undefined;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
