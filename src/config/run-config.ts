import { readFileSync } from 'node:fs';
import { DEFAULT_BASE_URL } from '../api/endpoints.js';
import type { NetworkSettings } from '../api/dispatcher.js';
import { UsageError } from '../errors.js';
import { DEFAULTS, DEFAULT_INSTRUCTIONS, DEFAULT_PROMPT, REASONING_EFFORTS, VERBOSITIES } from './defaults.js';
import type { Environment } from './environment.js';
import { resolveWatchConfig, type WatchConfig } from './watch-config.js';
import { parseBaseUrl, parseChoice, parseSeconds, parseText, parseWholeNumber } from './values.js';

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
  const timeoutRaw = stringFlag(flags, 'timeout', '--timeout');
  const timeoutSeconds = timeoutRaw === undefined ? defaultTimeoutSeconds : parseSeconds('--timeout', timeoutRaw);
  const retriesRaw = stringFlag(flags, 'maxRetries', '--max-retries');
  return Object.freeze({
    network: Object.freeze({
      baseUrl,
      timeoutMs: Math.round(timeoutSeconds * 1000),
      maxResponseBytes: DEFAULTS.maxResponseBytes,
    }),
    apiKey: env.get('OPENAI_API_KEY'),
    organization: env.get('OPENAI_ORG_ID'),
    project: env.get('OPENAI_PROJECT_ID'),
    maxRetries: retriesRaw === undefined ? DEFAULTS.maxRetries : parseWholeNumber('--max-retries', retriesRaw, 0, MAX_RETRIES),
    baseUrlSource: baseFlag !== undefined ? '--base-url' : baseEnv !== undefined ? `OPENAI_BASE_URL (${env.sourceOf('OPENAI_BASE_URL')})` : 'default',
  });
}

export function resolveRunConfig(flags: RawFlags, env: Environment): RunConfig {
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
    prompt: promptFile !== undefined ? readPromptFile(promptFile) : promptFlag !== undefined ? parseText('--prompt', promptFlag) : DEFAULT_PROMPT,
    promptSource: promptFile !== undefined ? `--prompt-file ${promptFile}` : promptFlag !== undefined ? '--prompt' : 'default',
    instructions: instructionsFlag !== undefined ? parseText('--instructions', instructionsFlag) : DEFAULT_INSTRUCTIONS,
    instructionsSource: instructionsFlag !== undefined ? '--instructions' : 'default',
    reasoningEffort: effort === undefined ? DEFAULTS.reasoningEffort : parseChoice('--reasoning-effort', effort, REASONING_EFFORTS),
    verbosity: verbosity === undefined ? DEFAULTS.verbosity : parseChoice('--verbosity', verbosity, VERBOSITIES),
    emulator,
  });
}

function readPromptFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`--prompt-file ${JSON.stringify(path)} cannot be read (${code}); give a readable text file`);
  }
  if (text.trim() === '') throw new UsageError(`--prompt-file ${JSON.stringify(path)} is empty; give a file with the prompt text`);
  return text;
}
