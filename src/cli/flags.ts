import { cac, type CAC, type Command } from 'cac';
import { UsageError } from '../errors.js';
import { COMMANDS, GLOBAL_FLAGS, type CommandName, type CONSOLE_FLAGS, type ENV_FILE_FLAGS, type FlagSpec, type NETWORK_FLAGS, type RETRY_FLAG } from './commands.js';

/**
 * The one adapter between the command line and the commands: it reads every flag itself, from
 * the declarations in src/cli/commands.ts, so that cac's quirks never reach a command. cac
 * (through mri) turns "007" into 7 and "1e3" into 1000, camel-cases names, gives every `--no-x`
 * a default of true, reads a switch typed twice as an array (which bgprobe once read as off),
 * and names an unknown flag in camelCase or without its `no-`. Here instead:
 * - a valued flag is the text typed, a string (`--flag value` or `--flag=value`), given once;
 * - a switch is `true` when typed, once or more, and `false` otherwise (`--no-color` is `noColor: true`);
 * - a switch given a value (`--emulator=false`) is refused, never read as on or off;
 * - an unknown flag is named as typed, with the nearest known one suggested;
 * - anything after `--` is refused: bgprobe has no use for it, and ignoring it would drop what the user typed.
 * cac is left what it does well: matching the command and its positional arguments
 * (`matchArguments`), from the same declarations (`buildParser`).
 */

/**
 * The flags of a list of declarations as one typed object, read from the declarations themselves
 * so that it cannot drift from them: `--poll-interval <seconds>` is `pollInterval: string |
 * undefined` (the text typed; the configuration parses it), `--emulator` is `emulator: boolean`.
 * Every declared flag is a key, so a misspelt name is a compile error, not a silent undefined.
 */
type FlagsOf<Specs extends readonly FlagSpec[]> = {
  readonly [Spec in Specs[number] as CamelCase<FlagName<Spec[0]>>]: Spec[0] extends `${string}<${string}>` ? string | undefined : boolean;
};

/** `--poll-interval <seconds>` -> `poll-interval`; the same rule as declaredFlags below. */
type FlagName<Usage extends string> = Usage extends `--${infer Name} <${string}` ? Name : Usage extends `--${infer Name}` ? Name : never;
/** `poll-interval` -> `pollInterval`; the same rule as camelCase below. */
type CamelCase<Name extends string> = Name extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : Name;

type DeclaredFlags<Command extends CommandName> = FlagsOf<(typeof COMMANDS)[Command]['flags']>;

// What each command's code reads: every flag the command declares in src/cli/commands.ts.
// (Interfaces, so that the compiler names them in its messages instead of spelling out the table.)
export interface RunFlags extends DeclaredFlags<'run'> {}
export interface PollFlags extends DeclaredFlags<'poll'> {}
export interface CancelFlags extends DeclaredFlags<'cancel'> {}
export interface CheckFlags extends DeclaredFlags<'check'> {}
export interface PolicyFlags extends DeclaredFlags<'policy'> {}
export interface EmulateFlags extends DeclaredFlags<'emulate'> {}

/** The flags object of a command, by its name. */
export type CommandFlags<Command extends CommandName> = {
  run: RunFlags;
  poll: PollFlags;
  cancel: CancelFlags;
  check: CheckFlags;
  policy: PolicyFlags;
  emulate: EmulateFlags;
}[Command];

// The groups of flags several commands share, for the code they share.
export interface ConsoleFlags extends FlagsOf<typeof CONSOLE_FLAGS> {}
export interface EnvFileFlags extends FlagsOf<typeof ENV_FILE_FLAGS> {}
export interface NetworkFlags extends FlagsOf<typeof NETWORK_FLAGS> {}
export interface RetryFlags extends FlagsOf<typeof RETRY_FLAG> {}

/** What the command line says, read once. */
export interface CommandLine<Command extends CommandName> {
  /** The positional arguments, in order (a response id), for cac to match against the command's usage. */
  readonly positionals: readonly string[];
  readonly flags: CommandFlags<Command>;
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
export function readCommandLine<Command extends CommandName>(command: Command, tokens: readonly string[]): CommandLine<Command> {
  const declared = declaredFlags(command);
  // Every declared flag is a key from the start: a switch not typed is false, a value not typed undefined.
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [name, shape] of declared) flags[camelCase(name)] = shape.valued ? undefined : false;
  const given = new Set<string>();
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
    const key = camelCase(name);
    if (!shape.valued) {
      if (match[2] !== undefined) throw new UsageError(`--${name} is a switch and takes no value, got ${JSON.stringify(token)}; write --${name} alone`);
      flags[key] = true;
      continue;
    }
    let value = match[2];
    const next = tokens[i + 1];
    if (value === undefined && next !== undefined && !next.startsWith('--')) {
      value = next;
      i += 1;
    }
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value (${shape.usage}); see bgprobe ${command} --help`);
    if (given.has(key)) throw new UsageError(`--${name} is given more than once; give it once`);
    given.add(key);
    flags[key] = value;
  }
  // The one cast: the keys and value kinds above follow the declarations by the same rules as FlagsOf.
  return { positionals, flags: Object.freeze(flags) as CommandFlags<Command>, help, version };
}

/**
 * cac's parser for the declarations in src/cli/commands.ts. It prints nothing itself: `--help`
 * and `--version` are plain flags here, and bgprobe prints src/cli/help.ts's texts for them.
 */
export function buildParser(): CAC {
  const cli = cac('bgprobe');
  for (const info of Object.values(COMMANDS)) {
    const command: Command = cli.command(info.usage, info.description);
    for (const [flag, description] of info.flags) command.option(flag, description);
    // cac gives every --no-x option a default of true, which its help would print; bgprobe reads an absent --no-color as not given.
    for (const option of command.options) if (option.negated) option.config.default = undefined;
    for (const example of 'examples' in info ? info.examples : []) command.example(example);
  }
  cli.option(...GLOBAL_FLAGS.help);
  cli.option(...GLOBAL_FLAGS.version);
  return cli;
}

/** The command's positional arguments as cac matches them against its usage (`poll <response_id>`); a missing one is a usage error. */
export function matchArguments(command: CommandName, positionals: readonly string[]): readonly string[] {
  const cli = buildParser();
  cli.parse(['node', 'bgprobe', command, ...positionals], { run: false });
  try {
    cli.matchedCommand?.checkRequiredArgs();
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see bgprobe ${command} --help`);
  }
  return cli.args;
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
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
