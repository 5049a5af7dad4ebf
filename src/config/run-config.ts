import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_BASE_URL } from '../api/endpoints.js';
import type { NetworkSettings } from '../api/dispatcher.js';
import { UsageError } from '../errors.js';
import { resolveProxy } from '../egress/proxy-config.js';
import { resolveTrust } from '../egress/trust.js';
import { DEFAULTS, DEFAULT_INSTRUCTIONS, DEFAULT_PROMPT, REASONING_EFFORTS, VERBOSITIES } from './defaults.js';
import type { Environment } from './environment.js';
import { resolveWatchConfig, type WatchConfig } from './watch-config.js';
import { parseBaseUrl, parseChoice, parseSeconds, parseText, parseWholeNumber, requireSafeTransport } from './values.js';

/** More retries than this only hides a problem that will not pass. */
const MAX_RETRIES = 50;

/** Flag values exactly as typed: strings for valued flags, booleans for switches. */
export type RawFlags = Readonly<Record<string, string | boolean | undefined>>;

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

export function stringFlag(flags: RawFlags, name: string, display: string): string | undefined {
  const value = flags[name];
  if (value === undefined || value === false) return undefined;
  if (value === true) throw new UsageError(`${display} needs a value; write ${display} VALUE or ${display}=VALUE`);
  return value;
}

export function resolveApiConfig(flags: RawFlags, env: Environment, defaultTimeoutSeconds: number = DEFAULTS.timeoutSeconds): ApiConfig {
  const baseFlag = stringFlag(flags, 'baseUrl', '--base-url');
  const baseEnv = env.get('OPENAI_BASE_URL');
  const baseUrl =
    baseFlag !== undefined
      ? parseBaseUrl('--base-url', baseFlag)
      : baseEnv !== undefined
        ? parseBaseUrl('OPENAI_BASE_URL', baseEnv)
        : new URL(DEFAULT_BASE_URL);
  requireSafeTransport(baseFlag !== undefined ? '--base-url' : 'OPENAI_BASE_URL', baseUrl, flags['allowInsecureHttp'] === true);
  const maxBytesRaw = stringFlag(flags, 'maxResponseBytes', '--max-response-bytes');
  const timeoutRaw = stringFlag(flags, 'timeout', '--timeout');
  const timeoutSeconds = timeoutRaw === undefined ? defaultTimeoutSeconds : parseSeconds('--timeout', timeoutRaw);
  const proxyFlag = stringFlag(flags, 'proxy', '--proxy');
  const { proxy, explanation } = resolveProxy(baseUrl, proxyFlag === undefined ? undefined : parseText('--proxy', proxyFlag), env);
  const caFile = stringFlag(flags, 'caFile', '--ca-file');
  const trust = resolveTrust(caFile === undefined ? undefined : parseText('--ca-file', caFile), flags['systemCa'] === true, env);
  const retriesRaw = stringFlag(flags, 'maxRetries', '--max-retries');
  return Object.freeze({
    network: Object.freeze({
      baseUrl,
      timeoutMs: Math.round(timeoutSeconds * 1000),
      maxResponseBytes:
        maxBytesRaw === undefined ? DEFAULTS.maxResponseBytes : parseWholeNumber('--max-response-bytes', maxBytesRaw, MIN_RESPONSE_BYTES, MAX_RESPONSE_BYTES),
      proxy,
      proxyExplanation: explanation,
      trust,
    }),
    apiKey: env.get('OPENAI_API_KEY'),
    organization: env.get('OPENAI_ORG_ID'),
    project: env.get('OPENAI_PROJECT_ID'),
    maxRetries: retriesRaw === undefined ? DEFAULTS.maxRetries : parseWholeNumber('--max-retries', retriesRaw, 0, MAX_RETRIES),
    baseUrlSource: baseFlag !== undefined ? '--base-url' : baseEnv !== undefined ? `OPENAI_BASE_URL (${env.sourceOf('OPENAI_BASE_URL')})` : 'default',
  });
}

/** `cwd` is the folder relative paths (--prompt-file) start from: the command's, not necessarily the process's. */
export function resolveRunConfig(flags: RawFlags, env: Environment, cwd: string = process.cwd()): RunConfig {
  const emulator = flags['emulator'] === true;
  const api = resolveApiConfig(flags, env);
  const promptFlag = stringFlag(flags, 'prompt', '--prompt');
  const promptFile = stringFlag(flags, 'promptFile', '--prompt-file');
  if (promptFlag !== undefined && promptFile !== undefined) {
    throw new UsageError('--prompt and --prompt-file both given; use one of them');
  }
  const instructionsFlag = stringFlag(flags, 'instructions', '--instructions');
  const effort = stringFlag(flags, 'reasoningEffort', '--reasoning-effort');
  const verbosity = stringFlag(flags, 'verbosity', '--verbosity');
  const model = stringFlag(flags, 'model', '--model');
  return Object.freeze({
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

/** `-` reads standard input to its end, as most tools do (`cat prompt.md | bgprobe run --prompt-file -`). */
function readPromptFile(path: string, cwd: string): string {
  const stdin = path === '-';
  let text: string;
  try {
    text = readFileSync(stdin ? 0 : resolve(cwd, path), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (stdin) throw new UsageError(`--prompt-file - could not read standard input (${code}); pipe the prompt in, or give a file`);
    throw new UsageError(`--prompt-file ${JSON.stringify(path)} cannot be read (${code}); give a readable text file`);
  }
  if (text.trim() === '') {
    throw new UsageError(stdin ? '--prompt-file -: standard input was empty; pipe the prompt text in' : `--prompt-file ${JSON.stringify(path)} is empty; give a file with the prompt text`);
  }
  return text;
}
