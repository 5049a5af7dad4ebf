import type { ApiAnswer } from '../api/client.js';
import { isPending } from '../api/response.js';
import type { RetryingClient } from '../api/retrying-client.js';
import { loadEnvironment } from '../config/environment.js';
import type { CancelFlags } from '../cli/flags.js';
import { resolveApiConfig } from '../config/run-config.js';
import { parseResponseId } from '../config/values.js';
import { lineProgress } from '../console/progress.js';
import { ApiError, exitCodeOf, SetupError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import type { CommandOutcome } from '../cli/outcome.js';
import type { Io } from '../io.js';
import { Journal } from '../job/journal.js';
import { checkedStatus } from '../job/poller.js';
import { createApiClient } from '../job/api-client.js';
import { apiSaysIdUnknown } from '../job/unknown-response.js';
import { oneLine } from '../text.js';
import { envFileOf } from './shared.js';

interface CancelOutcome {
  readonly status: string;
  /** The response ended without this cancel (before it, or after a refused one): nothing was cancelled. */
  readonly wasTerminal: boolean;
  readonly line: string;
}

/**
 * `bgprobe cancel <response_id>`: looks the response up first, so that "already finished"
 * and "cancelled now" can be told apart, then sends the cancel call when it is still running.
 * Exit 0 when the response is now cancelled or had already ended; 1 for any error.
 */
export async function cancelCommand(args: readonly string[], flags: CancelFlags, io: Io): Promise<CommandOutcome> {
  if (args.length > 1) throw new UsageError(`cancel takes one response id, got ${args.length}: ${JSON.stringify(args.join(' '))}`);
  const id = parseResponseId('cancel', args[0]);
  const json = flags.json;
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  const api = resolveApiConfig(flags, env, io.cwd);
  if (api.apiKey === undefined) {
    throw new SetupError('OPENAI_API_KEY is not set; export it or put it in .env (cancel needs the key of the project that created the response)', 'missing_key');
  }
  const client = createApiClient(api, new Journal(lineProgress(io.stderr), undefined));
  try {
    const outcome = await cancelResponse(client, id);
    if (json) return { exitCode: EXIT.ok, json: { id, status: outcome.status, was_terminal: outcome.wasTerminal, exit_code: EXIT.ok } };
    return { exitCode: EXIT.ok, stdout: `${outcome.line}\nFinal status: ${outcome.status}\n` };
  } catch (error) {
    const message = describeFailure(error, id, api.network.baseUrl.href);
    const exitCode = exitCodeOf(error);
    return { exitCode, errorLine: message, ...(json ? { json: { id, status: null, was_terminal: null, exit_code: exitCode, error: message } } : {}) };
  } finally {
    await client.close();
  }
}

async function cancelResponse(client: RetryingClient, id: string): Promise<CancelOutcome> {
  const before = checkedStatus(await client.retrieve(id), id);
  if (!isPending(before)) return alreadyEnded(id, before);
  let answer: ApiAnswer;
  try {
    answer = await client.cancel(id);
  } catch (error) {
    // It may have ended between the look-up and the cancel: the API then refuses with a 400.
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    const now = checkedStatus(await client.retrieve(id), id);
    if (isPending(now)) throw error;
    return endedAfterRefusal(id, now, error);
  }
  const status = checkedStatus(answer, id);
  if (status === 'cancelled') return { status, wasTerminal: false, line: `Response ${id} is now cancelled (it was ${before})` };
  if (isPending(status)) {
    return { status, wasTerminal: false, line: `Response ${id}: cancel accepted, status still ${status}; the API may take a few seconds (check with bgprobe poll ${id})` };
  }
  return { status, wasTerminal: true, line: `Response ${id} ended as ${status} before the cancel took effect; nothing was cancelled` };
}

function alreadyEnded(id: string, status: string): CancelOutcome {
  return { status, wasTerminal: true, line: `Response ${id} had already ended with status ${status}; nothing to cancel` };
}

/**
 * A refused cancel, then a terminal status. "Had already ended" only when the refusal says so
 * (the API's "Cannot cancel a completed response."): a refusal for another reason (not a
 * background response, a proxy's 400) does not tell whether it ended before or after it.
 */
function endedAfterRefusal(id: string, status: string, refusal: ApiError): CancelOutcome {
  const words = refusal.details.answeredBy === 'api' ? (refusal.details.apiError?.message ?? '') : '';
  if (/^Cannot cancel an? [a-z_]+ response\b/i.test(words)) return alreadyEnded(id, status);
  return { status, wasTerminal: true, line: `Response ${id} ended with status ${status}; the cancel was refused (${oneLine(refusal.message)}); nothing was cancelled` };
}

function describeFailure(error: unknown, id: string, baseUrl: string): string {
  const message = error instanceof Error ? error.message : String(error);
  // Only the API's own 404 naming the id says the id is unknown (poll's rule); any other 404 is given as it came.
  if (apiSaysIdUnknown(error, id)) return `no response ${id} is known at ${baseUrl}: ${message}`;
  return message;
}
