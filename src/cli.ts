import { matchArguments, nearestName, readCommandLine, type CommandFlags, type CommandLine } from './cli/flags.js';
import { errorLine, exitCodeOf, UsageError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { writeJson } from './console/json.js';
import type { GivenIo, Io } from './io.js';
import { redactedSink, Redactor } from './redact.js';
import { COMMANDS, isCommandName, type CommandName } from './cli/commands.js';
import { helpText, versionText } from './cli/help.js';
import { quickAnswer } from './cli/quick.js';
import { writeErrorLine, type CommandOutcome } from './cli/outcome.js';

/** C0 and C1 control characters other than tab and line feed: what oneLine (src/text.ts) folds. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A command's implementation, loaded only when that command runs, so `--help` loads nothing else. */
type Handler<Command extends CommandName> = (args: readonly string[], flags: CommandFlags<Command>, io: Io) => Promise<CommandOutcome>;

/** Each command's implementation, loaded only when that command runs. */
const HANDLERS: { readonly [Command in CommandName]: () => Promise<Handler<Command>> } = {
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
function withoutArguments<Command extends CommandName>(command: Command, run: (flags: CommandFlags<Command>, io: Io) => Promise<CommandOutcome>): Handler<Command> {
  return async (args, flags, io) => {
    if (args.length > 0) throw new UsageError(`${command} takes no arguments, got ${JSON.stringify(args.join(' '))}; see bgprobe ${command} --help`);
    return run(flags, io);
  };
}

/**
 * The whole process: parse, run one command, map any error to one line and an exit code.
 * Nothing below it writes to the process directly or exits.
 */
export async function main(args: readonly string[], given: GivenIo): Promise<ExitCode> {
  // One Redactor for the whole process: it starts with the real environment's secrets, the .env
  // file's are added when it is read, and every byte to stdout or stderr passes it (here, nowhere else).
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
      writeStyled: (text: string) => {
        stdoutUsed = true;
        return stdout.write(text);
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
    if (withCommand[0] === 'help') return helpCommand(withCommand.slice(1), io);
    const commandToken = withCommand.find((token) => !token.startsWith('-'));
    const named = withCommand[0]?.startsWith('-') ? commandToken : withCommand[0];
    if (named !== undefined && !isCommandName(named)) throw unknownCommand(named);
    const command: CommandName | undefined = named;
    const at = command === undefined ? -1 : withCommand.indexOf(command);
    const line = command === undefined ? undefined : readCommandLine(command, withCommand.filter((_, index) => index !== at));
    const asksHelp = line?.help ?? withCommand.some((token) => token === '-h' || token === '--help');
    if (asksHelp) {
      io.stdout.write(helpText(command));
      return EXIT.ok;
    }
    if (line?.version ?? withCommand.some((token) => token === '-v' || token === '--version')) {
      io.stdout.write(versionText());
      return EXIT.ok;
    }
    // --proxy's credentials are secrets from here on, in every form, also when the URL is malformed.
    if (line !== undefined && 'proxy' in line.flags && line.flags.proxy !== undefined) redactor.addUrlCredentials(line.flags.proxy);
    if (command === undefined || line === undefined) throw new UsageError(`no command given; commands: ${Object.keys(COMMANDS).join(', ')} (bgprobe --help)`);
    const ended = await runHandler(command, matchArguments(command, line.positionals), line, io);
    // The one place a command's ending is printed: its error line, then stdout. The sinks mask secrets.
    if (ended.errorLine !== undefined) writeErrorLine(io.stderr, ended.errorLine);
    if (ended.json !== undefined) writeJson(io.stdout, ended.json);
    else if (ended.stdout !== undefined) {
      if (ended.stdoutStyled === true && io.stdout.writeStyled) io.stdout.writeStyled(ended.stdout);
      else io.stdout.write(ended.stdout);
    }
    if (ended.note !== undefined) writeErrorLine(io.stderr, ended.note);
    return ended.exitCode;
  } catch (error) {
    const message = errorLine(error);
    writeErrorLine(io.stderr, message);
    const exitCode = exitCodeOf(error);
    if (wantsJson(args) && !stdoutUsed) writeJson(io.stdout, { error: message, exit_code: exitCode });
    return exitCode;
  }
}

/** Loads the command's implementation and runs it with the flags read for that command. */
async function runHandler<Command extends CommandName>(command: Command, args: readonly string[], line: CommandLine<Command>, io: Io): Promise<CommandOutcome> {
  const handler = await HANDLERS[command]();
  return handler(args, line.flags, io);
}

/** `bgprobe help [command]`: the same texts as `--help`. */
function helpCommand(rest: readonly string[], io: Io): ExitCode {
  const [name, ...extra] = rest;
  if (extra.length > 0) throw new UsageError(`help takes at most one command, got ${JSON.stringify(rest.join(' '))}; write bgprobe help COMMAND`);
  if (name !== undefined && !isCommandName(name)) throw unknownCommand(name);
  io.stdout.write(helpText(name));
  return EXIT.ok;
}

function unknownCommand(typed: string): UsageError {
  const nearest = nearestName(typed, [...Object.keys(COMMANDS), 'help']);
  const hint = nearest === undefined ? '' : ` (did you mean ${nearest}?)`;
  return new UsageError(`unknown command ${JSON.stringify(typed)}${hint}; commands: ${Object.keys(COMMANDS).join(', ')} (bgprobe --help)`);
}
