import { cac, type CAC, type Command } from 'cac';
import { camelCase, prepareArgv } from './cli/argv.js';
import type { RawFlags } from './config/run-config.js';
import { errorLine, exitCodeOf, UsageError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { writeJson } from './console/json.js';
import type { Io } from './io.js';
import { redactedSink, Redactor } from './redact.js';
import { COMMANDS, GLOBAL_FLAGS, isCommandName, type CommandName } from './cli/commands.js';
import { helpText, versionText } from './cli/help.js';
import { quickAnswer } from './cli/quick.js';

/** C0 and C1 control characters other than tab and line feed: what oneLine (src/text.ts) folds. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A command's implementation, loaded only when that command runs, so `--help` loads nothing else. */
type Handler = (args: readonly string[], flags: RawFlags, io: Io) => Promise<ExitCode>;

/** Each command's implementation, loaded only when that command runs. */
const HANDLERS: Readonly<Record<CommandName, () => Promise<Handler>>> = {
  run: async () => withoutArguments('run', (await import('./commands/run.js')).runCommand),
  check: async () => withoutArguments('check', (await import('./commands/check.js')).checkCommand),
  policy: async () => withoutArguments('policy', (await import('./commands/policy.js')).policyCommand),
  poll: async () => (await import('./commands/poll.js')).pollCommand,
  cancel: async () => (await import('./commands/cancel.js')).cancelCommand,
  emulate: async () => withoutArguments('emulate', (await import('./commands/emulate.js')).emulateCommand),
};

/** Whether --json was typed as a flag (not after `--`, where it would be an argument). */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** A command that takes flags only: any argument is a usage error. */
function withoutArguments(command: string, run: (flags: RawFlags, io: Io) => Promise<ExitCode>): Handler {
  return async (args, flags, io) => {
    if (args.length > 0) throw new UsageError(`${command} takes no arguments, got ${JSON.stringify(args.join(' '))}; see bgprobe ${command} --help`);
    return run(flags, io);
  };
}

const VALUED_FLAGS: ReadonlySet<string> = new Set(
  Object.values(COMMANDS).flatMap((spec) => spec.flags.filter(([flag]) => flag.includes('<')).map(([flag]) => /^--([\w-]+)/.exec(flag)?.[1] ?? '')),
);

/**
 * The parser for src/cli/commands.ts. It prints nothing itself: `--help` and `--version` are
 * plain flags here, and bgprobe prints src/cli/help.ts's texts for them.
 */
export function buildParser(): CAC {
  const cli = cac('bgprobe');
  for (const info of Object.values(COMMANDS)) {
    const command: Command = cli.command(info.usage, info.description);
    for (const [flag, description] of info.flags) command.option(flag, description);
    // cac gives every --no-x option a default of true; bgprobe reads an absent --no-color as not given.
    for (const option of command.options) if (option.negated) option.config.default = undefined;
    for (const example of 'examples' in info ? info.examples : []) command.example(example);
  }
  cli.option(...GLOBAL_FLAGS.help);
  cli.option(...GLOBAL_FLAGS.version);
  return cli;
}

/** cac names an unknown flag in camelCase (`--polInterval`); say it as the user typed it. */
function asTyped(message: string, argv: readonly string[]): string {
  return message.replace(/`--([\w-]+)`/, (whole, name: string) => {
    const typed = argv.map((token) => /^--([^=]+)/.exec(token)?.[1]).find((flag) => flag !== undefined && camelCase(flag) === name);
    return typed === undefined ? whole : `\`--${typed}\``;
  });
}

/**
 * The whole process: parse, run one command, map any error to one line and an exit code.
 * Nothing below it writes to the process directly or exits.
 */
export async function main(args: readonly string[], given: Io): Promise<ExitCode> {
  // One Redactor for the whole process: it starts with the real environment's secrets, commands
  // add what they learn later (a key from .env), and every byte to stdout or stderr passes it.
  const redactor = (given.redactor ?? new Redactor()).addEnvironment(given.env);
  // With --json, stdout holds exactly one JSON object, even when the run fails before a command could write one.
  let stdoutUsed = false;
  const stdout = redactedSink(given.stdout, redactor);
  const io: Io = {
    ...given,
    argv: args,
    redactor,
    stdout: {
      isTTY: stdout.isTTY,
      write: (text: string) => {
        stdoutUsed = true;
        // stdout holds plain lines or JSON, never a control character: a server's text in a
        // summary line (a status, an id) must not reach a terminal or a log as escape codes.
        return stdout.write(text.replace(CONTROL_CHARACTERS, '\uFFFD'));
      },
    },
    stderr: redactedSink(given.stderr, redactor),
  };
  try {
    const quick = quickAnswer(args);
    if (quick !== undefined) {
      io.stdout.write(quick);
      return EXIT.ok;
    }
    const first = args[0];
    const withCommand = first === undefined || (first.startsWith('-') && !['-h', '--help', '-v', '--version'].includes(first)) ? ['run', ...args] : [...args];
    const prepared = prepareArgv(withCommand, VALUED_FLAGS);
    const cli = buildParser();
    cli.parse(['node', 'bgprobe', ...prepared.argv], { run: false });
    const name = cli.matchedCommandName;
    const command = name !== undefined && isCommandName(name) ? name : undefined;
    if (cli.options['help']) {
      io.stdout.write(helpText(command));
      return EXIT.ok;
    }
    if (cli.options['version']) {
      io.stdout.write(versionText());
      return EXIT.ok;
    }
    const matched = cli.matchedCommand;
    if (!matched || command === undefined) {
      throw new UsageError(`unknown command ${JSON.stringify(withCommand[0])}; commands: ${Object.keys(COMMANDS).join(', ')} (bgprobe --help)`);
    }
    try {
      matched.checkUnknownOptions();
      matched.checkOptionValue();
      matched.checkRequiredArgs();
    } catch (error) {
      throw new UsageError(`${asTyped((error as Error).message, prepared.argv)}; see bgprobe ${command} --help`);
    }
    const flags: Record<string, string | boolean | undefined> = {};
    for (const [key, value] of Object.entries(cli.options)) if (typeof value === 'boolean') flags[key] = value;
    for (const [key, value] of prepared.raw) flags[key] = value;
    const handler = await HANDLERS[command]();
    return await handler(cli.args, Object.freeze(flags), io);
  } catch (error) {
    const message = errorLine(error);
    io.stderr.write(`bgprobe: ${message}\n`);
    const exitCode = exitCodeOf(error);
    if (wantsJson(args) && !stdoutUsed) writeJson(io.stdout, redactor, { error: message, exit_code: exitCode });
    return exitCode;
  }
}
