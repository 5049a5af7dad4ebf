import { resolve } from 'node:path';
import type { EnvFileFlags, NetworkFlags } from '../cli/flags.js';
import type { ApiConfig } from '../config/run-config.js';
import { UsageError } from '../errors.js';
import type { ResumeRoute } from '../job/outcome.js';
import type { Io } from '../io.js';

/** The .env file to read: --dotenv (or --env-file, its other name), else .env in the working folder. */
export function envFileOf(flags: EnvFileFlags, io: Io): { envFile: string; envFileExplicit: boolean; envFileFlag: string } {
  const { dotenv, envFile } = flags;
  if (dotenv !== undefined && envFile !== undefined) throw new UsageError('--dotenv and --env-file both given; they are the same flag, give one (--dotenv works on every Node)');
  const given = dotenv ?? envFile;
  return { envFile: resolve(io.cwd, given ?? '.env'), envFileExplicit: given !== undefined, envFileFlag: dotenv !== undefined ? '--dotenv' : '--env-file' };
}

/**
 * The options a printed resume or cancel command must carry to reach the API the way this run
 * did: the base URL (unless the default), --proxy (its password masked: it is never printed),
 * the trust options, the .env file and --allow-insecure-http. Paths are made absolute, so the
 * command works from any folder.
 */
export function resumeRoute(flags: NetworkFlags, api: ApiConfig, io: Io): ResumeRoute {
  const args: string[] = [];
  if (api.baseUrlSource !== 'default') args.push('--base-url', api.network.baseUrl.href);
  const proxy = api.network.proxy;
  if (proxy !== undefined && proxy.source === '--proxy') args.push('--proxy', proxy.display);
  const caFile = flags.caFile;
  if (caFile !== undefined) args.push('--ca-file', resolve(io.cwd, caFile));
  if (flags.systemCa) args.push('--system-ca');
  const envFile = envFileOf(flags, io);
  if (envFile.envFileExplicit) args.push('--dotenv', envFile.envFile);
  if (flags.allowInsecureHttp) args.push('--allow-insecure-http');
  return Object.freeze({ args: Object.freeze(args), maskedProxyPassword: proxy?.source === '--proxy' && proxy.url.password !== '' });
}
