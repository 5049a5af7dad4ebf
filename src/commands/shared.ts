import { resolve } from 'node:path';
import type { RawFlags } from '../config/run-config.js';
import { stringFlag } from '../config/run-config.js';
import type { Io } from '../io.js';

/** The .env file to read: --env-file, else .env in the working folder. */
export function envFileOf(flags: RawFlags, io: Io): { envFile: string; envFileExplicit: boolean } {
  const given = stringFlag(flags, 'envFile', '--env-file');
  return { envFile: resolve(io.cwd, given ?? '.env'), envFileExplicit: given !== undefined };
}
