import { loadEnvironment } from '../config/environment.js';
import { resolveBaseUrl, type RawFlags } from '../config/run-config.js';
import { writeJson } from '../console/json.js';
import { policyFor, renderPolicy } from '../egress/policy.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { Redactor } from '../redact.js';
import { envFileOf } from './shared.js';

/** `bgprobe policy`: the minimal allowlist, from the endpoint table. Sends nothing and never loads undici. */
export async function policyCommand(flags: RawFlags, io: Io): Promise<ExitCode> {
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  const policy = policyFor(resolveBaseUrl(flags, env).url);
  if (flags['json'] === true) {
    const { host, port, scheme, endpoints } = policy;
    writeJson(io.stdout, new Redactor(), { host, port, scheme, endpoints: endpoints.map(({ name, method, path, required }) => ({ name, method, path, required })) });
  } else io.stdout.write(renderPolicy(policy));
  return EXIT.ok;
}
