import { buildCreateBody } from '../api/create-body.js';
import { loadEnvironment } from '../config/environment.js';
import type { RunFlags } from '../cli/flags.js';
import { resolveRunConfig, type RunConfig } from '../config/run-config.js';
import { deepFreeze } from '../config/freeze.js';
import type { Emulator } from '../emulator/server.js';
import { SetupError } from '../errors.js';
import type { CommandOutcome } from '../cli/outcome.js';
import type { Io } from '../io.js';
import { maskSecret } from '../redact.js';
import type { ReportHeader } from '../report/report.js';
import { openSession } from '../job/session.js';
import { submitCreate } from '../job/submit.js';
import { supervise } from '../job/supervise.js';
import { VERSION } from '../version.js';
import { resolveConsoleOptions, type ConsoleOptions } from '../console/options.js';
import { systemClock } from '../job/clock.js';
import { envFileOf, resumeRoute } from './shared.js';
import type { ResumeRoute } from '../job/outcome.js';

/** The key `run --emulator` sends: the emulator wants a bearer key, any will do. */
const EMULATOR_KEY = 'sk-emulator-placeholder-key';

/** `bgprobe run`: submit a background response, poll it to a terminal status, write the report. */
export async function runCommand(flags: RunFlags, io: Io): Promise<CommandOutcome> {
  const env = await loadEnvironment({ processEnv: io.env, ...envFileOf(flags, io), redactor: io.redactor });
  let config = resolveRunConfig(flags, env, io.cwd);
  const consoleOptions = resolveConsoleOptions(flags, io);
  let emulator: Emulator | undefined;
  if (config.emulator) {
    // Loaded only here: a run against the API has no use for a server.
    const { startEmulator } = await import('../emulator/server.js');
    emulator = await startEmulator();
    config = deepFreeze({
      ...config,
      apiKey: EMULATOR_KEY,
      // The in-process emulator is on loopback: no proxy stands between bgprobe and it.
      network: { ...config.network, baseUrl: new URL(emulator.baseUrl), proxy: undefined, proxyExplanation: 'direct (built-in emulator)' },
      baseUrlSource: env.get('OPENAI_BASE_URL') === undefined ? '--emulator: the built-in emulator' : '--emulator: the built-in emulator; OPENAI_BASE_URL ignored',
    });
  }
  try {
    const route = resumeRoute(flags, config, io);
    // The in-process emulator stops with bgprobe: a printed command could not reach it.
    return await submitAndWatch(config, consoleOptions, flags, io, emulator ? { ...route, endsWithRun: 'the built-in emulator (--emulator)' } : route);
  } finally {
    await emulator?.close();
  }
}

async function submitAndWatch(config: RunConfig, consoleOptions: ConsoleOptions, flags: RunFlags, io: Io, route: ResumeRoute): Promise<CommandOutcome> {
  const session = openSession(config, config.outputPath, runHeader(config), io, systemClock, consoleOptions);
  // --stream: the events are read as they come (loaded only then, for start-up time).
  const stream = flags.stream ? new (await import('../job/stream-watch.js')).StreamWatch(session) : undefined;
  const follow = stream ? { follow: stream.follow.bind(stream) } : {};
  const options = { watch: config, model: config.model, json: flags.json, route, timeoutSeconds: config.network.timeoutMs / 1000, ...follow };
  return supervise(session, io, options, async (signal, create) => {
    session.journal.info(`bgprobe ${VERSION} run: model ${config.model}, base URL ${config.network.baseUrl.href}`);
    if (config.apiKey === undefined) {
      throw new SetupError('OPENAI_API_KEY is not set; export it, put it in .env, or use --emulator to try bgprobe without a key', 'missing_key');
    }
    return stream ? stream.create(buildCreateBody(config), signal, create) : submitCreate(session, buildCreateBody(config), signal, create);
  });
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
      ['Max retries per call', String(config.maxRetries)],
      ['Max wait (s)', config.maxWaitSeconds === undefined ? 'none' : String(config.maxWaitSeconds)],
      ['On timeout / interrupt', `${config.cancelOnTimeout ? 'cancel' : 'leave running'} / ${config.cancelOnInterrupt ? 'cancel' : 'leave running'}`],
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
