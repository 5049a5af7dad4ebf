import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chooseBaseUrl } from './base-url.js';
import { deepFreeze } from './freeze.js';
import type { NetworkSettings } from '../api/dispatcher.js';
import type { NetworkFlags, RetryFlags, RunFlags } from '../cli/flags.js';
import { UsageError } from '../errors.js';
import { resolveProxy } from '../egress/proxy-config.js';
import { resolveTrust } from '../egress/trust.js';
import { DEFAULTS, DEFAULT_INSTRUCTIONS, DEFAULT_PROMPT, REASONING_EFFORTS, VERBOSITIES } from './defaults.js';
import type { Environment } from './environment.js';
import { readRegularTextFile, UnreadableFile } from './files.js';
import { resolveWatchConfig, type WatchConfig } from './watch-config.js';
import { parseChoice, parseSeconds, parseText, parseWholeNumber, requireSafeTransport } from './values.js';

/** More retries than this only hides a problem that will not pass. */
const MAX_RETRIES = 50;

/** Everything a command that talks to the API needs, resolved once: flags over environment over .env over defaults. */
export interface ApiConfig {
  readonly network: NetworkSettings;
  readonly apiKey: string | undefined;
  readonly organization: string | undefined;
  readonly project: string | undefined;
  /** Retries per call after a transient failure (`--max-retries`). */
  readonly maxRetries: number;
  /** Where each setting came from, for the report. */
  readonly baseUrlSource: string;
}

/** The settings of `run`; `poll` uses the ApiConfig and WatchConfig parts. */
export interface RunConfig extends ApiConfig, WatchConfig {
  readonly model: string;
  readonly prompt: string;
  readonly promptSource: string;
  readonly instructions: string;
  readonly instructionsSource: string;
  readonly reasoningEffort: string;
  readonly verbosity: string;
  readonly emulator: boolean;
}

/** The smallest useful cap (a queued Response is about 1.5 KB) and the largest Node can hold as one string. */
const MIN_RESPONSE_BYTES = 1024;
const MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

/** The API's base URL and where it came from: --base-url over OPENAI_BASE_URL over the default. Shared by every command, policy included. */
export function resolveBaseUrl(flags: Pick<NetworkFlags, 'baseUrl'>, env: Environment): { url: URL; source: string; setting: '--base-url' | 'OPENAI_BASE_URL' | undefined } {
  const { url, setting } = chooseBaseUrl(flags.baseUrl, env.get('OPENAI_BASE_URL'));
  const source = setting === 'OPENAI_BASE_URL' ? `OPENAI_BASE_URL (${env.sourceOf('OPENAI_BASE_URL')})` : setting ?? 'default';
  return { url, source, setting };
}

/**
 * `cwd` is the folder relative paths (--ca-file) start from: the command's, not necessarily the
 * process's. `check` has no --max-retries (its probes go through no retry policy): the default stands there.
 */
export function resolveApiConfig(flags: NetworkFlags & Partial<RetryFlags>, env: Environment, cwd: string, defaultTimeoutSeconds: number = DEFAULTS.timeoutSeconds): ApiConfig {
  const base = resolveBaseUrl(flags, env);
  const baseUrl = base.url;
  requireSafeTransport(base.setting ?? 'OPENAI_BASE_URL', baseUrl, flags.allowInsecureHttp);
  const maxBytesRaw = flags.maxResponseBytes;
  const timeoutRaw = flags.timeout;
  const timeoutSeconds = timeoutRaw === undefined ? defaultTimeoutSeconds : parseSeconds('--timeout', timeoutRaw);
  const proxyFlag = flags.proxy;
  const { proxy, explanation } = resolveProxy(baseUrl, proxyFlag === undefined ? undefined : parseText('--proxy', proxyFlag), env);
  const caFile = flags.caFile;
  const trust = resolveTrust(caFile === undefined ? undefined : parseText('--ca-file', caFile), flags.systemCa, env, cwd);
  const retriesRaw = flags.maxRetries;
  return deepFreeze({
    network: {
      baseUrl,
      timeoutMs: Math.round(timeoutSeconds * 1000),
      maxResponseBytes:
        maxBytesRaw === undefined ? DEFAULTS.maxResponseBytes : parseWholeNumber('--max-response-bytes', maxBytesRaw, MIN_RESPONSE_BYTES, MAX_RESPONSE_BYTES),
      proxy,
      proxyExplanation: explanation,
      trust,
    },
    apiKey: env.get('OPENAI_API_KEY'),
    organization: env.get('OPENAI_ORG_ID'),
    project: env.get('OPENAI_PROJECT_ID'),
    maxRetries: retriesRaw === undefined ? DEFAULTS.maxRetries : parseWholeNumber('--max-retries', retriesRaw, 0, MAX_RETRIES),
    baseUrlSource: base.source,
  });
}

/** `cwd` is the folder relative paths (--prompt-file) start from: the command's, not necessarily the process's. */
export function resolveRunConfig(flags: RunFlags, env: Environment, cwd: string = process.cwd()): RunConfig {
  const emulator = flags.emulator;
  if (emulator) refuseWithEmulator(flags);
  // The emulator's address replaces any base URL: an OPENAI_BASE_URL exported for other tools is
  // not read at all (run.ts says so in the report), so it cannot make an offline demo fail.
  const api = resolveApiConfig(flags, emulator ? withoutVariable(env, 'OPENAI_BASE_URL') : env, cwd);
  const promptFlag = flags.prompt;
  const promptFile = flags.promptFile;
  if (promptFlag !== undefined && promptFile !== undefined) {
    throw new UsageError('--prompt and --prompt-file both given; use one of them');
  }
  const instructionsFlag = flags.instructions;
  const effort = flags.reasoningEffort;
  const verbosity = flags.verbosity;
  const model = flags.model;
  return deepFreeze({
    ...api,
    ...resolveWatchConfig(flags, emulator),
    model: model === undefined ? DEFAULTS.model : parseText('--model', model).trim(),
    prompt: promptFile !== undefined ? readPromptFile(promptFile, cwd) : promptFlag !== undefined ? parseText('--prompt', promptFlag) : DEFAULT_PROMPT,
    promptSource: promptFile !== undefined ? promptFile === '-' ? 'standard input, --prompt-file -' : `--prompt-file ${promptFile}` : promptFlag !== undefined ? '--prompt' : 'default',
    instructions: instructionsFlag !== undefined ? parseText('--instructions', instructionsFlag) : DEFAULT_INSTRUCTIONS,
    instructionsSource: instructionsFlag !== undefined ? '--instructions' : 'default',
    reasoningEffort: effort === undefined ? DEFAULTS.reasoningEffort : parseChoice('--reasoning-effort', effort, REASONING_EFFORTS),
    verbosity: verbosity === undefined ? DEFAULTS.verbosity : parseChoice('--verbosity', verbosity, VERBOSITIES),
    emulator,
  });
}

/** Flags that would send the run elsewhere than the built-in emulator: they contradict --emulator. */
function refuseWithEmulator(flags: RunFlags): void {
  for (const [key, flag] of [['baseUrl', '--base-url'], ['proxy', '--proxy']] as const) {
    if (flags[key] !== undefined) throw new UsageError(`--emulator and ${flag} both given; --emulator runs against the built-in emulator on loopback, so drop one of them`);
  }
}

function withoutVariable(env: Environment, name: string): Environment {
  return { get: (n) => (n === name ? undefined : env.get(n)), sourceOf: (n) => (n === name ? undefined : env.sourceOf(n)) };
}

/** `-` reads standard input to its end, as most tools do (`cat prompt.md | bgprobe run --prompt-file -`). */
function readPromptFile(path: string, cwd: string): string {
  const stdin = path === '-';
  let text: string;
  try {
    text = stdin ? readFileSync(0, 'utf8') : readRegularTextFile(resolve(cwd, path));
  } catch (error) {
    if (stdin) throw new UsageError(`--prompt-file - could not read standard input (${(error as NodeJS.ErrnoException).code ?? 'error'}); pipe the prompt in, or give a file`);
    if (!(error instanceof UnreadableFile)) throw error;
    throw new UsageError(`--prompt-file ${JSON.stringify(path)} cannot be read (${error.reason}); give a readable text file`);
  }
  if (text.trim() === '') {
    throw new UsageError(stdin ? '--prompt-file -: standard input was empty; pipe the prompt text in' : `--prompt-file ${JSON.stringify(path)} is empty; give a file with the prompt text`);
  }
  return text;
}
