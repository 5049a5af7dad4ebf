import { cac, type CAC, type Command } from 'cac';
import { camelCase, prepareArgv } from './cli/argv.js';
import type { RawFlags } from './config/run-config.js';
import { errorLine, exitCodeOf, UsageError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { CONSOLE_FLAGS } from './console/options.js';
import { writeJson } from './console/json.js';
import type { Io } from './io.js';
import { redactedSink, Redactor } from './redact.js';
import { VERSION } from './version.js';

/** C0 and C1 control characters other than tab and line feed: what oneLine (src/text.ts) folds. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A command's implementation, loaded only when that command runs, so `--help` loads nothing else. */
type Handler = (args: readonly string[], flags: RawFlags, io: Io) => Promise<ExitCode>;

interface CommandSpec {
  readonly usage: string;
  readonly description: string;
  readonly flags: readonly (readonly [string, string])[];
  readonly load: () => Promise<Handler>;
  readonly examples?: readonly string[];
}

/** Flags of every command that talks to the API. */
const NETWORK_FLAGS: readonly (readonly [string, string])[] = [
  ['--base-url <url>', 'API base URL (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)'],
  ['--proxy <url>', 'proxy URL, overriding HTTPS_PROXY / HTTP_PROXY (a value without scheme means http://)'],
  ['--ca-file <path>', 'extra CA bundle (PEM) trusted for the API connection, on top of the system roots and NODE_EXTRA_CA_CERTS'],
  ['--system-ca', "also trust the operating system's CA bundle ($SSL_CERT_FILE or the distribution's file), which Node 20 ignores"],
  ['--timeout <seconds>', 'bound on each request (check: on each stage); none can outlive it (default: 60; check: 5)'],
  ['--allow-insecure-http', 'allow a plain http:// base URL to a host that is not loopback (the key would travel unencrypted)'],
  ['--max-response-bytes <bytes>', 'refuse any answer larger than this (default: 67108864, 64 MiB)'],
  ['--env-file <path>', 'read this .env file instead of ./.env (real environment variables win)'],
];

/** Transient failures (network errors, 408, 409, 429, 5xx) are retried with backoff; this bounds how often. */
const RETRY_FLAG: readonly (readonly [string, string])[] = [['--max-retries <count>', 'retries per call after a transient failure (default: 5)']];

/** How run and poll follow a response, and what they do when a deadline or an interrupt ends the wait. */
const WATCH_FLAGS: readonly (readonly [string, string])[] = [
  ['--poll-interval <seconds>', 'seconds between polls, decimals allowed (default: 10; run --emulator: 1)'],
  ['--max-wait <seconds>', 'give up (exit 4) when no terminal status came within this time; the response keeps running'],
  ['--cancel-on-timeout', 'when --max-wait passes, cancel the response first'],
  ['--cancel-on-interrupt', 'on Ctrl-C or SIGTERM, cancel the response first'],
  ['--json', 'print one JSON summary object on stdout instead of the two summary lines'],
];

const RUN_FLAGS: readonly (readonly [string, string])[] = [
  ['--model <name>', 'model to ask (default: gpt-5.2)'],
  ['--output <path>', 'Markdown report path, folders created (default: scratchpad/background_mode_gpt52_test_report.md)'],
  ['--prompt <text>', 'user prompt (default: a job-shop scheduling question)'],
  ['--prompt-file <path>', 'read the user prompt from a file'],
  ['--instructions <text>', 'developer instructions (default: an operations-research expert)'],
  ['--reasoning-effort <level>', 'none, minimal, low, medium, high, xhigh or max (default: high)'],
  ['--verbosity <level>', 'low, medium or high (default: high)'],
  ['--emulator', 'run against the built-in emulator: no key, no network'],
  ...CONSOLE_FLAGS,
  ...WATCH_FLAGS,
  ...RETRY_FLAG,
  ...NETWORK_FLAGS,
];

const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  run: {
    usage: 'run',
    description: 'Submit a background response, poll it to a terminal status, write the report (default command)',
    flags: RUN_FLAGS,
    load: async () => {
      const { runCommand } = await import('./commands/run.js');
      return (args, flags, io) => (noArguments('run', args), runCommand(flags, io));
    },
    examples: ['bgprobe run --emulator', 'OPENAI_API_KEY=sk-... bgprobe run --model gpt-5.2 --poll-interval 5'],
  },
  check: {
    usage: 'check',
    description: 'Diagnose egress stage by stage (DNS, TCP, proxy CONNECT, TLS, one probe per endpoint); spends no tokens',
    flags: [['--json', 'print one JSON object on stdout'], ...NETWORK_FLAGS],
    load: async () => {
      const { checkCommand } = await import('./commands/check.js');
      return (args, flags, io) => (noArguments('check', args), checkCommand(flags, io));
    },
    examples: ['bgprobe check', 'HTTPS_PROXY=http://proxy:3128 bgprobe check --ca-file proxy-ca.pem --json'],
  },
  policy: {
    usage: 'policy',
    description: 'Print the minimal egress allowlist bgprobe needs (host, port, methods, paths)',
    flags: [
      ['--json', 'print one JSON object on stdout'],
      ['--base-url <url>', 'API base URL (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)'],
      ['--env-file <path>', 'read this .env file instead of ./.env'],
    ],
    load: async () => {
      const { policyCommand } = await import('./commands/policy.js');
      return (args, flags, io) => (noArguments('policy', args), policyCommand(flags, io));
    },
  },
  poll: {
    usage: 'poll <response_id>',
    description: 'Attach to an existing background response, poll it to a terminal status, write the report',
    flags: [
      ['--output <path>', 'Markdown report path, folders created (default: scratchpad/poll_<response_id>.md)'],
      ...CONSOLE_FLAGS,
      ...WATCH_FLAGS,
      ...RETRY_FLAG,
      ...NETWORK_FLAGS,
    ],
    load: async () => {
      const { pollCommand } = await import('./commands/poll.js');
      return pollCommand;
    },
    examples: ['bgprobe poll resp_68f3a1c2d4e5 --poll-interval 5 --max-wait 600'],
  },
  cancel: {
    usage: 'cancel <response_id>',
    description: 'Cancel a background response and print its status (exit 0 when cancelled or already ended)',
    flags: [['--json', 'print {id, status, was_terminal, exit_code} as one JSON object on stdout'], ...RETRY_FLAG, ...NETWORK_FLAGS],
    load: async () => {
      const { cancelCommand } = await import('./commands/cancel.js');
      return cancelCommand;
    },
    examples: ['bgprobe cancel resp_68f3a1c2d4e5'],
  },
  emulate: {
    usage: 'emulate',
    description: 'Serve the local Responses API emulator on loopback until interrupted',
    flags: [
      ['--port <port>', 'port to listen on (default: 0, a free port)'],
      ['--host <address>', 'address to listen on (default: 127.0.0.1)'],
      ['--queued-seconds <seconds>', 'how long a new response stays queued, 0 to skip (default: 1)'],
      ['--running-seconds <seconds>', 'how long it then stays in_progress, 0 to skip (default: 2)'],
      ['--final-status <status>', 'terminal status it reaches (default: completed)'],
      ['--output-text <text>', "the model's answer (default: a short text echoing the question)"],
      ['--never-finish', 'responses stay in_progress forever (for --max-wait and interrupts)'],
      ['--fault <faults>', 'scripted faults, e.g. poll2=drop,poll3=503:retry-after=1,poll4=slow:2000,poll5=no-status (every action: README, section The emulator)'],
    ],
    load: async () => {
      const { emulateCommand } = await import('./commands/emulate.js');
      return (args, flags, io) => (noArguments('emulate', args), emulateCommand(flags, io));
    },
  },
};

/** Whether --json was typed as a flag (not after `--`, where it would be an argument). */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

function noArguments(command: string, args: readonly string[]): void {
  if (args.length > 0) throw new UsageError(`${command} takes no arguments, got ${JSON.stringify(args.join(' '))}; see bgprobe ${command} --help`);
}

const VALUED_FLAGS: ReadonlySet<string> = new Set(
  Object.values(COMMANDS).flatMap((spec) => spec.flags.filter(([flag]) => flag.includes('<')).map(([flag]) => /^--([\w-]+)/.exec(flag)?.[1] ?? '')),
);

function buildCli(): { cli: CAC; commands: Map<Command, CommandSpec> } {
  const cli = cac('bgprobe');
  const commands = new Map<Command, CommandSpec>();
  for (const spec of Object.values(COMMANDS)) {
    const command = cli.command(spec.usage, spec.description);
    for (const [flag, description] of spec.flags) command.option(flag, description);
    // cac gives every --no-x option a default of true and prints "(default: true)" in --help, which reads as "no colour by default".
    for (const option of command.options) if (option.negated) option.config.default = undefined;
    for (const example of spec.examples ?? []) command.example(example);
    commands.set(command, spec);
  }
  cli.help();
  cli.version(VERSION);
  return { cli, commands };
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
    const first = args[0];
    const withCommand = first === undefined || (first.startsWith('-') && !['-h', '--help', '-v', '--version'].includes(first)) ? ['run', ...args] : [...args];
    const prepared = prepareArgv(withCommand, VALUED_FLAGS);
    const { cli, commands } = buildCli();
    cli.parse(['node', 'bgprobe', ...prepared.argv], { run: false });
    if (cli.options['help'] || cli.options['version']) return EXIT.ok;
    const command = cli.matchedCommand;
    const spec = command ? commands.get(command) : undefined;
    if (!command || !spec) {
      throw new UsageError(`unknown command ${JSON.stringify(withCommand[0])}; commands: ${Object.keys(COMMANDS).join(', ')} (bgprobe --help)`);
    }
    try {
      command.checkUnknownOptions();
      command.checkOptionValue();
      command.checkRequiredArgs();
    } catch (error) {
      throw new UsageError(`${asTyped((error as Error).message, prepared.argv)}; see bgprobe ${command.name} --help`);
    }
    const flags: Record<string, string | boolean | undefined> = {};
    for (const [key, value] of Object.entries(cli.options)) if (typeof value === 'boolean') flags[key] = value;
    for (const [key, value] of prepared.raw) flags[key] = value;
    const handler = await spec.load();
    return await handler(cli.args, Object.freeze(flags), io);
  } catch (error) {
    const message = errorLine(error);
    io.stderr.write(`bgprobe: ${message}\n`);
    const exitCode = exitCodeOf(error);
    if (wantsJson(args) && !stdoutUsed) writeJson(io.stdout, redactor, { error: message, exit_code: exitCode });
    return exitCode;
  }
}
