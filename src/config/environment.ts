import { SetupError, UsageError } from '../errors.js';
import type { Redactor } from '../redact.js';
import { readRegularTextFile, UnreadableFile } from './files.js';

/** A read-only view of the environment: real variables over a .env file. Empty values count as unset. */
export interface Environment {
  get(name: string): string | undefined;
  /** Where a value came from, for the report's Run Configuration. */
  sourceOf(name: string): 'environment' | '.env' | undefined;
}

interface EnvironmentOptions {
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  /** The .env file to read; a missing default file is fine, a missing named file is an error. */
  readonly envFile: string;
  readonly envFileExplicit: boolean;
  /** The flag that named it (`--dotenv` or `--env-file`), for messages. */
  readonly envFileFlag?: string | undefined;
  /** Learns the secrets the file holds (its API key, proxy passwords) before anything can print them. */
  readonly redactor: Redactor;
}

/**
 * Layers a .env file under the real environment. The file is parsed with dotenv, never loaded
 * into process.env, so a real variable always wins and nothing leaks to child processes.
 */
export async function loadEnvironment(options: EnvironmentOptions): Promise<Environment> {
  const fromFile = await readEnvFile(options.envFile, options.envFileExplicit, options.envFileFlag ?? '--dotenv');
  // main registered the real environment; the file's key is a secret even when a real one overrides it.
  options.redactor.addEnvironment(fromFile);
  const real = options.processEnv;
  const present = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';
  return {
    get(name) {
      const value = present(real[name]) ? real[name] : fromFile[name];
      return present(value) ? value.trim() : undefined;
    },
    sourceOf(name) {
      if (present(real[name])) return 'environment';
      return present(fromFile[name]) ? '.env' : undefined;
    },
  };
}

async function readEnvFile(path: string, explicit: boolean, flag: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = readRegularTextFile(path);
  } catch (error) {
    if (!(error instanceof UnreadableFile)) throw error;
    if (explicit) throw new UsageError(`${flag} ${JSON.stringify(path)} cannot be read (${error.reason}); give a readable file`);
    if (error.code === 'ENOENT') return {};
    throw new SetupError(`the .env file ${JSON.stringify(path)} cannot be read (${error.reason}); fix or remove it, or name another with --dotenv`, 'env_file_unreadable');
  }
  // dotenv's parser never throws: lines it cannot read are skipped, as dotenv defines, and a
  // value is only ever a string (quotes removed, \n expanded in double quotes, # starts a comment).
  const { parse } = await import('dotenv');
  return parse(text);
}
