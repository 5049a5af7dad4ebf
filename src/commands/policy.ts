import { DEFAULT_BASE_URL } from '../api/endpoints.js';
import { loadEnvironment } from '../config/environment.js';
import { stringFlag, type RawFlags } from '../config/run-config.js';
import { parseBaseUrl } from '../config/values.js';
import { writeJson } from '../console/json.js';
import { policyFor, renderPolicy } from '../egress/policy.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { Redactor } from '../redact.js';
import { envFileOf } from './shared.js';

/** `bgprobe policy`: the minimal allowlist, from the endpoint table. Sends nothing and never loads undici. */
export async function policyCommand(flags: RawFlags, io: Io): Promise<ExitCode> {
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  const baseFlag = stringFlag(flags, 'baseUrl', '--base-url');
  const baseEnv = env.get('OPENAI_BASE_URL');
  const baseUrl =
    baseFlag !== undefined ? parseBaseUrl('--base-url', baseFlag) : baseEnv !== undefined ? parseBaseUrl('OPENAI_BASE_URL', baseEnv) : new URL(DEFAULT_BASE_URL);
  const policy = policyFor(baseUrl);
  if (flags['json'] === true) {
    const { host, port, scheme, endpoints } = policy;
    writeJson(io.stdout, new Redactor(), { host, port, scheme, endpoints: endpoints.map(({ name, method, path, required }) => ({ name, method, path, required })) });
  } else io.stdout.write(renderPolicy(policy));
  return EXIT.ok;
}
