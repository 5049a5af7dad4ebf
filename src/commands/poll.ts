import { loadEnvironment } from '../config/environment.js';
import type { PollFlags } from '../cli/flags.js';
import { resolveApiConfig, type ApiConfig } from '../config/run-config.js';
import { parseResponseId } from '../config/values.js';
import { resolveWatchConfig, type WatchConfig } from '../config/watch-config.js';
import { SetupError, UsageError } from '../errors.js';
import type { CommandOutcome } from '../cli/outcome.js';
import type { Io } from '../io.js';
import type { ApiAnswer } from '../api/client.js';
import { checkedStatus } from '../job/poller.js';
import { apiSaysIdUnknown, UnknownResponseError } from '../job/unknown-response.js';
import { noteResponse, openSession } from '../job/session.js';
import { systemClock } from '../job/clock.js';
import { resolveConsoleOptions } from '../console/options.js';
import { supervise } from '../job/supervise.js';
import { maskSecret } from '../redact.js';
import type { ReportHeader } from '../report/report.js';
import { VERSION } from '../version.js';
import { envFileOf, resumeRoute } from './shared.js';

/**
 * `bgprobe poll <response_id>`: attach to an existing response (made by bgprobe or anything
 * else) and follow it to a terminal status, with the same events, report and exit codes as run.
 */
export async function pollCommand(args: readonly string[], flags: PollFlags, io: Io): Promise<CommandOutcome> {
  if (args.length > 1) throw new UsageError(`poll takes one response id, got ${args.length}: ${JSON.stringify(args.join(' '))}`);
  const id = parseResponseId('poll', args[0]);
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  const api = resolveApiConfig(flags, env, io.cwd);
  const watch = resolveWatchConfig(flags, false);
  // Not run's default report: attaching must never overwrite the report of the run that made the response.
  const outputPath = flags.output === undefined ? defaultPollReport(id) : watch.outputPath;
  // Held until the API shows it knows the id: a mistyped id leaves no report behind.
  const session = openSession(api, outputPath, pollHeader(api, watch, id, outputPath), io, systemClock, resolveConsoleOptions(flags, io), true);
  session.progress.responseId = id;
  session.report.setResponseId(id);
  // --stream: attach to the response's event stream (loaded only then, for start-up time).
  const stream = flags.stream ? new (await import('../job/stream-watch.js')).StreamWatch(session) : undefined;
  const follow = stream ? { follow: stream.follow.bind(stream) } : {};
  const options = { watch, json: flags.json, route: resumeRoute(flags, api, io), timeoutSeconds: api.network.timeoutMs / 1000, ...follow };
  return supervise(session, io, options, async (signal) => {
    session.journal.info(`bgprobe ${VERSION} poll: attaching to response ${id}, base URL ${api.network.baseUrl.href}`);
    // Checked after the report header is written, as run does, so the report and --json keep the id.
    if (api.apiKey === undefined) {
      session.report.release();
      throw new SetupError('OPENAI_API_KEY is not set; export it or put it in .env (poll needs the key of the project that created the response)', 'missing_key');
    }
    let first: ApiAnswer;
    try {
      first = stream ? await stream.attach(id, signal) : await session.client.retrieve(id, signal);
    } catch (error) {
      if (apiSaysIdUnknown(error, id)) throw new UnknownResponseError(id, error);
      session.report.release();
      throw error;
    }
    session.report.release();
    const status = checkedStatus(first, id);
    noteResponse(session, first.response);
    session.journal.info(`Response ${id}: status ${status} (HTTP ${first.status}${first.requestId ? `, ${first.requestId}` : ''})`);
    return first;
  });
}

/** scratchpad/poll_<id>.md, with anything unusual in the id folded to `_`. */
function defaultPollReport(id: string): string {
  return `scratchpad/poll_${id.replace(/[^A-Za-z0-9_-]/g, '_')}.md`;
}

function pollHeader(api: ApiConfig, watch: WatchConfig, id: string, outputPath: string): ReportHeader {
  return {
    title: 'bgprobe Background Mode Poll Report',
    configuration: [
      ['Command', `poll ${id}`],
      ['Started at', new Date().toISOString()],
      ['bgprobe', `${VERSION} (Node ${process.version})`],
      ['Base URL', `${api.network.baseUrl.href} (${api.baseUrlSource})`],
      ['Poll interval (s)', String(watch.pollIntervalSeconds)],
      ['Per-request timeout (s)', String(api.network.timeoutMs / 1000)],
      ['Max retries per call', String(api.maxRetries)],
      ['Max wait (s)', watch.maxWaitSeconds === undefined ? 'none' : String(watch.maxWaitSeconds)],
      ['On timeout / interrupt', `${watch.cancelOnTimeout ? 'cancel' : 'leave running'} / ${watch.cancelOnInterrupt ? 'cancel' : 'leave running'}`],
      ['Report', outputPath],
      ['API key', api.apiKey === undefined ? 'not set' : `set (${maskSecret(api.apiKey)})`],
      ['Organization', api.organization ?? 'not set'],
      ['Project', api.project ?? 'not set'],
    ],
    prompt: [
      {
        label: 'Not sent by poll',
        text: 'bgprobe poll attaches to an existing response and sends no prompt; the response carries whatever its creator sent.',
      },
    ],
  };
}
