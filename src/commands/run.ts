import { buildCreateBody } from '../api/create-body.js';
import { loadEnvironment } from '../config/environment.js';
import { resolveRunConfig, type RawFlags, type RunConfig } from '../config/run-config.js';
import { startEmulator, type Emulator } from '../emulator/server.js';
import { errorLine, exitCodeOf, SetupError } from '../errors.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { maskSecret } from '../redact.js';
import type { ReportHeader } from '../report/report.js';
import { elapsedSeconds, noteResponse, openSession, type Session } from '../job/session.js';
import { writeJson } from '../console/json.js';
import { summarizeUsage, type ResponseObject } from '../api/response.js';
import { recordFailure, watchToEnd } from '../job/watch.js';
import { VERSION } from '../version.js';
import { resolveConsoleOptions, type ConsoleOptions } from '../console/options.js';
import { systemClock } from '../job/clock.js';
import { envFileOf } from './shared.js';

/** The key `run --emulator` sends: the emulator wants a bearer key, any will do. */
const EMULATOR_KEY = 'sk-emulator-placeholder-key';

/** `bgprobe run`: submit a background response, poll it to a terminal status, write the report. */
export async function runCommand(flags: RawFlags, io: Io): Promise<ExitCode> {
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  let config = resolveRunConfig(flags, env, io.cwd);
  const consoleOptions = resolveConsoleOptions(flags, io);
  let emulator: Emulator | undefined;
  if (config.emulator) {
    emulator = await startEmulator();
    config = Object.freeze({
      ...config,
      apiKey: EMULATOR_KEY,
      // The in-process emulator is on loopback: no proxy stands between bgprobe and it.
      network: Object.freeze({ ...config.network, baseUrl: new URL(emulator.baseUrl), proxy: undefined, proxyExplanation: 'direct (built-in emulator)' }),
      baseUrlSource: 'built-in emulator (--emulator)',
    });
  }
  try {
    return await submitAndWatch(config, consoleOptions, flags, io);
  } finally {
    await emulator?.close();
  }
}

async function submitAndWatch(config: RunConfig, consoleOptions: ConsoleOptions, flags: RawFlags, io: Io): Promise<ExitCode> {
  const session = openSession(config, config.outputPath, runHeader(config), io, systemClock, consoleOptions);
  const { journal, client } = session;
  try {
    journal.info(`bgprobe ${VERSION} run: model ${config.model}, base URL ${config.network.baseUrl.href}`);
    if (config.apiKey === undefined) {
      throw new SetupError('OPENAI_API_KEY is not set; export it, put it in .env, or use --emulator to try bgprobe without a key', 'missing_key');
    }
    journal.info('Submitting the background response (POST create)');
    const created = await client.create(buildCreateBody(config));
    noteResponse(session, created.response);
    journal.info(`Created response ${created.response.id}: status ${created.response.status ?? '(none)'}`);
    const result = await watchToEnd(session, created, config.pollIntervalSeconds);
    const summary = runSummary(config, session, result.response, result.polls, result.exitCode);
    if (flags['json'] === true) writeJson(io.stdout, session.redactor, summary);
    else io.stdout.write(`Report written to: ${session.report.path}\nFinal status: ${result.status}\n`);
    return result.exitCode;
  } catch (error) {
    const message = errorLine(error);
    const exitCode = exitCodeOf(error);
    recordFailure(session, error);
    io.stderr.write(session.redactor.apply(`bgprobe: ${message}${resumeHint(session.progress.responseId)}\n`));
    if (flags['json'] === true) {
      writeJson(io.stdout, session.redactor, runSummary(config, session, session.progress.lastSeen, session.progress.polls, exitCode, message));
    } else io.stdout.write(`Report written to: ${session.report.path}\n`);
    return exitCode;
  } finally {
    session.journal.stopLive();
    await client.close();
  }
}

function runHeader(config: RunConfig): ReportHeader {
  const key = config.apiKey === undefined ? 'not set' : config.emulator ? 'placeholder (emulator)' : `set (${maskSecret(config.apiKey)})`;
  return {
    title: 'bgprobe Background Mode Test Report',
    configuration: [
      ['Command', 'run'],
      ['Started at', new Date().toISOString()],
      ['bgprobe', `${VERSION} (Node ${process.version})`],
      ['Base URL', `${config.network.baseUrl.href} (${config.baseUrlSource})`],
      ['Model', config.model],
      ['Poll interval (s)', String(config.pollIntervalSeconds)],
      ['Reasoning effort', config.reasoningEffort],
      ['Verbosity', config.verbosity],
      ['Proxy', config.network.proxyExplanation],
      ['Trusted CAs', config.network.trust.description],
      ['Per-request timeout (s)', String(config.network.timeoutMs / 1000)],
      ['Max wait (s)', config.maxWaitSeconds === undefined ? 'none' : String(config.maxWaitSeconds)],
      ['Report', config.outputPath],
      ['API key', key],
      ['Organization', config.organization ?? 'not set'],
      ['Project', config.project ?? 'not set'],
    ],
    prompt: [
      { label: `Developer instructions (${config.instructionsSource})`, text: config.instructions },
      { label: `User prompt (${config.promptSource})`, text: config.prompt },
    ],
  };
}

/** Appended to the one error line, so the id survives even --quiet: how to resume or cancel what may still run. */
function resumeHint(responseId: string | undefined): string {
  return responseId ? `; response ${responseId} may still be running: resume with "bgprobe poll ${responseId}", cancel with "bgprobe cancel ${responseId}"` : '';
}

/**
 * The --json object of run (and poll): what CI needs to decide and to find the report. Every
 * key is always present (null when unknown), so a consumer never has to test for one.
 */
export function runSummary(
  config: { model: string },
  session: Session,
  response: ResponseObject | undefined,
  polls: number,
  exitCode: ExitCode,
  error: string | null = null,
) {
  return {
    id: response?.id ?? null,
    status: response?.status ?? null,
    model: response?.model ?? config.model,
    report: session.report.path,
    polls,
    elapsed_seconds: Number(elapsedSeconds(session).toFixed(3)),
    usage: summarizeUsage(response?.usage) ?? null,
    exit_code: exitCode,
    error,
  };
}
