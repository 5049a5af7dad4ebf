import { DEFAULT_BASE_URL } from '../api/endpoints.js';
import { parseBaseUrl } from './values.js';

/**
 * The base-URL rule, pure: `--base-url` over OPENAI_BASE_URL over the default; a blank variable
 * counts as unset. `resolveBaseUrl` (src/config/run-config.ts) applies it for every command, and
 * the launcher's quick `policy` (src/cli/quick-policy.ts) applies the same function without
 * loading the configuration's other modules.
 */
export function chooseBaseUrl(flag: string | undefined, variable: string | undefined): { url: URL; setting: '--base-url' | 'OPENAI_BASE_URL' | undefined } {
  if (flag !== undefined) return { url: parseBaseUrl('--base-url', flag), setting: '--base-url' };
  const fromEnv = variable?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return { url: parseBaseUrl('OPENAI_BASE_URL', fromEnv), setting: 'OPENAI_BASE_URL' };
  return { url: new URL(DEFAULT_BASE_URL), setting: undefined };
}
