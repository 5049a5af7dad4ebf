import { loadEnvironment } from '../config/environment.js';
import { resolveBaseUrl, stringFlag, type RawFlags } from '../config/run-config.js';
import { writeJson } from '../console/json.js';
import { policyFor, policyJson, renderPolicy } from '../egress/policy.js';
import { isTargetName, renderTargetList, snippetFor, targetList, TARGET_NAMES } from '../egress/policy-targets.js';
import { UsageError } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { Redactor } from '../redact.js';
import { envFileOf } from './shared.js';

/** `bgprobe policy`: the minimal allowlist, from the endpoint table. Sends nothing and never loads undici. */
export async function policyCommand(flags: RawFlags, io: Io): Promise<ExitCode> {
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  const policy = policyFor(resolveBaseUrl(flags, env).url);
  const json = flags['json'] === true;
  const target = stringFlag(flags, 'for', '--for');
  if (target === undefined) {
    if (json) writeJson(io.stdout, new Redactor(), policyJson(policy));
    else io.stdout.write(renderPolicy(policy));
  } else if (target === 'list') {
    if (json) writeJson(io.stdout, new Redactor(), { targets: TARGET_NAMES.map((name) => snippetFor(name, policy)) });
    else io.stdout.write(renderTargetList());
  } else if (isTargetName(target)) {
    const snippet = snippetFor(target, policy);
    if (json) writeJson(io.stdout, new Redactor(), snippet);
    else {
      // stdout holds the snippet alone, so that `bgprobe policy --for squid >> squid.conf` is all it takes.
      io.stdout.write(snippet.text);
      io.stderr.write(`bgprobe: ${snippet.place}; ${snippet.note}\n`);
    }
  } else {
    throw new UsageError(`--for ${JSON.stringify(target)} is not a known target; use one of: list, ${targetList()}`);
  }
  return EXIT.ok;
}

