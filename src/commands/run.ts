import { buildCreateBody } from '../api/create-body.js';
import { loadEnvironment } from '../config/environment.js';
import { resolveRunConfig, type RawFlags, type RunConfig } from '../config/run-config.js';
import type { Emulator } from '../emulator/server.js';
import { exitCodeOf, SetupError } from '../errors.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { maskSecret } from '../redact.js';
import type { ReportHeader } from '../report/report.js';
import { elapsedSeconds, noteResponse, openSession, type Session } from '../job/session.js';
import { writeJson } from '../console/json.js';
import { summarizeUsage, type ResponseObject } from '../api/response.js';
import { recordFailure, watchToEnd } from '../job/watch.js';
import { VERSION } from '../version.js';
import { envFileOf } from './shared.js';

/** The key `run --emulator` sends: the emulator wants a bearer key, any will do. */
const EMULATOR_KEY = 'sk-emulator-placeholder-key';

/** `bgprobe run`: submit a background response, poll it to a terminal status, write the report. */
export async function runCommand(flags: RawFlags, io: Io): Promise<ExitCode> {
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io) });
  let config = resolveRunConfig(flags, env);
  let emulator: Emulator | undefined;
  if (config.emulator) {
    // Loaded only here: a run against the API has no use for a server.
    const { startEmulator } = await import('../emulator/server.js');
    emulator = await startEmulator();
    config = Object.freeze({
      ...config,
      apiKey: EMULATOR_KEY,
      network: Object.freeze({ ...config.network, baseUrl: new URL(emulator.baseUrl) }),
      baseUrlSource: 'built-in emulator (--emulator)',
    });
  }
  try {
    return await submitAndWatch(config, flags, io);
  } finally {
    await emulator?.close();
  }
}

async function submitAndWatch(config: RunConfig, flags: RawFlags, io: Io): Promise<ExitCode> {
  const session = openSession(config, config.outputPath, runHeader(config), io);
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
    const message = error instanceof Error ? error.message : String(error);
    const exitCode = exitCodeOf(error);
    recordFailure(session, error);
    io.stderr.write(session.redactor.apply(`bgprobe: ${message}\n`));
    if (flags['json'] === true) {
      writeJson(io.stdout, session.redactor, { ...runSummary(config, session, session.progress.lastSeen, session.progress.polls, exitCode), error: message });
    } else io.stdout.write(`Report written to: ${session.report.path}\n`);
    return exitCode;
  } finally {
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

/** The --json object of run (and poll): what CI needs to decide and to find the report. */
export function runSummary(config: { model: string }, session: Session, response: ResponseObject | undefined, polls: number, exitCode: ExitCode) {
  return {
    id: response?.id ?? null,
    status: response?.status ?? null,
    model: response?.model ?? config.model,
    report: session.report.path,
    polls,
    elapsed_seconds: Number(elapsedSeconds(session).toFixed(3)),
    usage: summarizeUsage(response?.usage) ?? null,
    exit_code: exitCode,
  };
}
