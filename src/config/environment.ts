import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** A read-only view of the environment: real variables over a .env file. Empty values count as unset. */
export interface Environment {
  get(name: string): string | undefined;
  /** Where a value came from, for the report's Run Configuration. */
  sourceOf(name: string): 'environment' | '.env' | undefined;
}

export interface EnvironmentOptions {
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  /** The .env file to read; a missing default file is fine, a missing named file is an error. */
  readonly envFile: string;
  readonly envFileExplicit: boolean;
}

/**
 * Layers a .env file under the real environment. The file is parsed with dotenv, never loaded
 * into process.env, so a real variable always wins and nothing leaks to child processes.
 */
export async function loadEnvironment(options: EnvironmentOptions): Promise<Environment> {
  const fromFile = await readEnvFile(options.envFile, options.envFileExplicit);
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

async function readEnvFile(path: string, explicit: boolean): Promise<Record<string, string>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!explicit && code === 'ENOENT') return {};
    throw new UsageError(`--env-file ${JSON.stringify(path)} cannot be read (${code ?? 'error'}); give a readable file`);
  }
  // dotenv's parser never throws: lines it cannot read are skipped, as dotenv defines.
  const { parse } = await import('dotenv');
  return parse(text);
}
