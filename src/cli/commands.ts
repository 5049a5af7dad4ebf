/**
 * What bgprobe's commands are and which flags they take: the data behind both the parser
 * (src/cli.ts) and the help texts (src/cli/help.ts). It imports nothing but the --fault syntax
 * (data, itself importing nothing), so that the installed command can answer `--help` without
 * loading the program (src/launcher.ts).
 */
import { FAULT_SYNTAX } from './fault-syntax.js';

/** A flag as the parser declares it (`--timeout <seconds>`), and its one-line description. */
export type FlagSpec = readonly [usage: string, description: string];

interface CommandInfo {
  /** The command and its arguments, as cac declares them (`poll <response_id>`). */
  readonly usage: string;
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  readonly examples?: readonly string[];
}

/** The console flags every command accepts (see src/console/options.ts); those with nothing to colour or quieten accept them all the same. */
export const CONSOLE_FLAGS = [
  ['--quiet', 'print only errors on stderr'],
  ['--verbose', "also print each request's and answer's headers on stderr (the key masked)"],
  ['--no-color', 'no colour on stderr (also when NO_COLOR is set)'],
] as const satisfies readonly FlagSpec[];

/**
 * Which .env file to read. `--dotenv` is the name that works everywhere: Node 20 reads any
 * `--env-file` on its command line itself, even after the script's name, and exits 9 before
 * bgprobe starts when the file is missing (https://github.com/nodejs/node/issues/54232).
 */
export const ENV_FILE_FLAGS = [
  ['--dotenv <path>', 'read this .env file instead of ./.env (real environment variables win)'],
  ['--env-file <path>', 'the same as --dotenv, where Node leaves it to bgprobe (Node 20 reads --env-file itself: use --dotenv)'],
] as const satisfies readonly FlagSpec[];

/** Flags of every command that talks to the API. */
export const NETWORK_FLAGS = [
  ['--base-url <url>', 'API base URL (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)'],
  ['--proxy <url>', 'proxy URL (http://, https:// or socks5://), overriding HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (a value without scheme means http://)'],
  ['--ca-file <path>', 'extra CA bundle (PEM) trusted for the API connection, on top of the system roots and NODE_EXTRA_CA_CERTS'],
  ['--system-ca', "also trust the operating system's CA bundle ($SSL_CERT_FILE or the distribution's file), which Node 20 ignores"],
  ['--timeout <seconds>', 'bound on each request (check: on each stage); none can outlive it (default: 60; check: 5)'],
  ['--allow-insecure-http', 'allow a plain http:// base URL to a host that is not loopback (the key would travel unencrypted)'],
  ['--max-response-bytes <bytes>', 'refuse any answer larger than this (default: 67108864, 64 MiB)'],
  ...ENV_FILE_FLAGS,
] as const satisfies readonly FlagSpec[];

/** Transient failures (network errors, 408, 409, 429, 5xx) are retried with backoff; this bounds how often. */
export const RETRY_FLAG = [['--max-retries <count>', 'retries per call after a transient failure (default: 5)']] as const satisfies readonly FlagSpec[];

/** How run and poll follow a response, and what they do when a deadline or an interrupt ends the wait (after --poll-interval, whose help differs). */
const WATCH_FLAGS = [
  ['--max-wait <seconds>', 'give up (exit 4) when no terminal status came within this time; the response keeps running'],
  ['--cancel-on-timeout', 'when --max-wait passes, cancel the response first'],
  ['--cancel-on-interrupt', 'on Ctrl-C or SIGTERM, cancel the response first'],
  ['--json', 'print one JSON summary object on stdout instead of the two summary lines'],
  ['--stream', 'read the response as server-sent events as they come (run: create with stream: true; poll: attach to such a response), resuming after a drop'],
] as const satisfies readonly FlagSpec[];

const RUN_FLAGS = [
  ['--model <name>', 'model to ask (default: gpt-5.2)'],
  ['--output <path>', 'Markdown report path, folders created (default: scratchpad/background_mode_gpt52_test_report.md)'],
  ['--prompt <text>', 'user prompt (default: a job-shop scheduling question)'],
  ['--prompt-file <path>', 'read the user prompt from a file (- for standard input)'],
  ['--instructions <text>', 'developer instructions (default: an operations-research expert)'],
  ['--reasoning-effort <level>', 'none, minimal, low, medium, high, xhigh or max (default: high)'],
  ['--verbosity <level>', 'low, medium or high (default: high)'],
  ['--emulator', 'run against the built-in emulator: no key, no network'],
  ...CONSOLE_FLAGS,
  ['--poll-interval <seconds>', 'seconds between polls, decimals allowed (default: 10; run --emulator: 1)'],
  ...WATCH_FLAGS,
  ...RETRY_FLAG,
  ...NETWORK_FLAGS,
] as const satisfies readonly FlagSpec[];

/** Every command, in the order `bgprobe --help` lists them. */
export const COMMANDS = {
  run: {
    usage: 'run',
    description: 'Submit a background response, poll it to a terminal status, write the report (default command)',
    flags: RUN_FLAGS,
    examples: ['bgprobe run --emulator', 'OPENAI_API_KEY=sk-... bgprobe run --model gpt-5.2 --poll-interval 5'],
  },
  check: {
    usage: 'check',
    description: 'Diagnose egress stage by stage (DNS, TCP, proxy CONNECT, TLS, one probe per endpoint); spends no tokens',
    flags: [['--json', 'print one JSON object on stdout'], ...CONSOLE_FLAGS, ...NETWORK_FLAGS],
    examples: ['bgprobe check', 'HTTPS_PROXY=http://proxy:3128 bgprobe check --ca-file proxy-ca.pem --json'],
  },
  policy: {
    usage: 'policy',
    description: 'Print the minimal egress allowlist bgprobe needs (host, port, methods, paths)',
    flags: [
      ['--json', 'print one JSON object on stdout'],
      ['--for <target>', 'the allowlist in the syntax of a firewall or sandbox (squid, no-proxy, harden-runner, ...; list names them)'],
      ['--base-url <url>', 'API base URL (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)'],
      ...ENV_FILE_FLAGS,
      ...CONSOLE_FLAGS,
    ],
  },
  poll: {
    usage: 'poll <response_id>',
    description: 'Attach to an existing background response, poll it to a terminal status, write the report',
    flags: [
      ['--output <path>', 'Markdown report path, folders created (default: scratchpad/poll_<response_id>.md)'],
      ...CONSOLE_FLAGS,
      // poll has no --emulator, so its --poll-interval help names only its own default.
      ['--poll-interval <seconds>', 'seconds between polls, decimals allowed (default: 10)'],
      ...WATCH_FLAGS,
      ...RETRY_FLAG,
      ...NETWORK_FLAGS,
    ],
    examples: ['bgprobe poll resp_68f3a1c2d4e5 --poll-interval 5 --max-wait 600'],
  },
  cancel: {
    usage: 'cancel <response_id>',
    description: 'Cancel a background response and print its status (exit 0 when cancelled or already ended)',
    flags: [['--json', 'print {id, status, was_terminal, exit_code} as one JSON object on stdout'], ...CONSOLE_FLAGS, ...RETRY_FLAG, ...NETWORK_FLAGS],
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
      ['--tls-cert <path>', 'serve HTTPS with this certificate (PEM), with --tls-key; clients then need --ca-file'],
      ['--tls-key <path>', 'the private key (PEM) of --tls-cert'],
      ['--fault <faults>', `scripted faults, e.g. poll2=drop,poll3=503:retry-after=1; ${FAULT_SYNTAX} (README, section The emulator)`],
      ...CONSOLE_FLAGS,
    ],
  },
} as const satisfies Readonly<Record<string, CommandInfo>>;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** The flags every command accepts, handled before any command runs. */
export const GLOBAL_FLAGS = {
  help: ['-h, --help', 'Display this message'],
  version: ['-v, --version', 'Display version number'],
} as const satisfies Record<string, FlagSpec>;
