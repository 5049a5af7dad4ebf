import { loadEnvironment } from '../config/environment.js';
import type { PolicyFlags } from '../cli/flags.js';
import { resolveBaseUrl } from '../config/run-config.js';
import type { CommandOutcome } from '../cli/outcome.js';
import { policyFor, policyJson, renderPolicy } from '../egress/policy.js';
import { isTargetName, renderTargetList, snippetFor, targetList, TARGET_NAMES } from '../egress/policy-targets.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../io.js';
import { envFileOf } from './shared.js';

/** `bgprobe policy`: the minimal allowlist, from the endpoint table. Sends nothing and never loads undici. */
export async function policyCommand(flags: PolicyFlags, io: Io): Promise<CommandOutcome> {
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  const policy = policyFor(resolveBaseUrl(flags, env).url);
  const json = flags.json;
  const target = flags.for;
  if (target === undefined) return json ? { exitCode: EXIT.ok, json: policyJson(policy) } : { exitCode: EXIT.ok, stdout: renderPolicy(policy) };
  if (target === 'list') {
    return json ? { exitCode: EXIT.ok, json: { targets: TARGET_NAMES.map((name) => snippetFor(name, policy)) } } : { exitCode: EXIT.ok, stdout: renderTargetList() };
  }
  if (!isTargetName(target)) throw new UsageError(`--for ${JSON.stringify(target)} is not a known target; use one of: list, ${targetList()}`);
  const snippet = snippetFor(target, policy);
  if (json) return { exitCode: EXIT.ok, json: snippet };
  // stdout holds the snippet alone, so that `bgprobe policy --for squid >> squid.conf` is all it takes.
  return { exitCode: EXIT.ok, stdout: snippet.text, note: `${snippet.place}; ${snippet.note}` };
}
