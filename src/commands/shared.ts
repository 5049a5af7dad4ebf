import { resolve } from 'node:path';
import { stringFlag, type RawFlags } from '../cli/flags.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';

/** The .env file to read: --dotenv (or --env-file, its other name), else .env in the working folder. */
export function envFileOf(flags: RawFlags, io: Io): { envFile: string; envFileExplicit: boolean; envFileFlag: string } {
  const dotenv = stringFlag(flags, 'dotenv', '--dotenv');
  const envFile = stringFlag(flags, 'envFile', '--env-file');
  if (dotenv !== undefined && envFile !== undefined) throw new UsageError('--dotenv and --env-file both given; they are the same flag, give one (--dotenv works on every Node)');
  const given = dotenv ?? envFile;
  return { envFile: resolve(io.cwd, given ?? '.env'), envFileExplicit: given !== undefined, envFileFlag: dotenv !== undefined ? '--dotenv' : '--env-file' };
}
