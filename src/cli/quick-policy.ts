import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chooseBaseUrl } from '../config/base-url.js';
import { policyFor, policyJson, renderPolicy } from '../egress/policy.js';

/**
 * `bgprobe policy` and `policy --json` answered by the installed command's launcher
 * (src/launcher.ts) from the endpoint table, without loading the program: it starts as fast as
 * `--help`. The texts are the program's own (src/egress/policy.ts). Only when the environment
 * alone decides the base URL: with a .env file here (it may set OPENAI_BASE_URL), any other
 * argument, or a base URL the program would refuse, the program answers, as it always did.
 */
export function quickPolicy(args: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd: string): string | undefined {
  if (args[0] !== 'policy' || args.length > 2 || (args.length === 2 && args[1] !== '--json')) return undefined;
  if (existsSync(join(cwd, '.env'))) return undefined;
  let baseUrl: URL;
  try {
    // The program's own rule (src/config/base-url.ts), with no --base-url: only the environment decides here.
    baseUrl = chooseBaseUrl(undefined, env['OPENAI_BASE_URL']).url;
  } catch {
    return undefined;
  }
  const policy = policyFor(baseUrl);
  return args[1] === '--json' ? `${JSON.stringify(policyJson(policy), null, 2)}\n` : renderPolicy(policy);
}
