import { once } from 'node:events';
import type { RawFlags } from '../config/run-config.js';
import { stringFlag } from '../config/run-config.js';
import { isLoopbackHost, parseSeconds, parseText, parseWholeNumber } from '../config/values.js';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../emulator/server.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { SetupError, UsageError } from '../errors.js';
import { parseFaults, type Fault } from '../emulator/faults.js';
import type { Io } from '../io.js';

/** `bgprobe emulate`: serve the emulator until SIGINT or SIGTERM. */
export async function emulateCommand(flags: RawFlags, io: Io): Promise<ExitCode> {
  const port = stringFlag(flags, 'port', '--port');
  const host = stringFlag(flags, 'host', '--host');
  const queued = stringFlag(flags, 'queuedSeconds', '--queued-seconds');
  const running = stringFlag(flags, 'runningSeconds', '--running-seconds');
  const finalStatus = stringFlag(flags, 'finalStatus', '--final-status');
  const outputText = stringFlag(flags, 'outputText', '--output-text');
  const faultText = stringFlag(flags, 'fault', '--fault');
  const faults = faultText === undefined ? [] : parseFaultFlag(faultText);
  const options = {
    port: port === undefined ? 0 : parseWholeNumber('--port', port, 0, 65535),
    host: host ?? '127.0.0.1',
    queuedMs: queued === undefined ? EMULATOR_DEFAULTS.queuedMs : phaseSeconds('--queued-seconds', queued) * 1000,
    inProgressMs: running === undefined ? EMULATOR_DEFAULTS.inProgressMs : phaseSeconds('--running-seconds', running) * 1000,
    finalStatus: finalStatus === undefined ? EMULATOR_DEFAULTS.finalStatus : parseText('--final-status', finalStatus).trim(),
    ...(outputText === undefined ? {} : { outputText }),
    neverFinish: flags['neverFinish'] === true,
    faults,
  };
  let emulator: Emulator;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    throw cannotListen(error, options.host, options.port);
  }
  io.stdout.write(`bgprobe emulator listening on ${emulator.baseUrl}\n`);
  if (faults.length > 0) io.stderr.write(`Scripted faults: ${faultText}\n`);
  io.stderr.write(`${howToUse(emulator.baseUrl)}\nPress Ctrl-C to stop.\n`);
  const signal = await Promise.race([once(process, 'SIGINT').then(() => 'SIGINT'), once(process, 'SIGTERM').then(() => 'SIGTERM')]);
  await emulator.close();
  io.stderr.write(`Emulator stopped (${signal}); it served ${emulator.requests.length} requests.\n`);
  return EXIT.ok;
}

function parseFaultFlag(text: string): Fault[] {
  try {
    return parseFaults(text);
  } catch (error) {
    throw new UsageError(`--fault: ${(error as Error).message}`);
  }
}

/** How long a phase lasts: 0 skips it (a response created straight in_progress, or finished at once). */
function phaseSeconds(flag: string, raw: string): number {
  return /^(0+(\.0*)?|\.0+)$/.test(raw.trim()) ? 0 : parseSeconds(flag, raw);
}

/** Node's `listen EADDRINUSE: ...` says what failed, not what to do. */
function cannotListen(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new SetupError(`port ${port} on ${host} is already in use; choose another --port, or leave it out for a free one`, 'emulator_port_in_use', { cause: error });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new SetupError(`--host ${JSON.stringify(host)} is not an address of this machine (${code}); give one such as 127.0.0.1`, 'emulator_bad_host', { cause: error });
  }
  return error;
}

/**
 * The line that says how to point bgprobe at the emulator. bgprobe refuses plain http:// to a
 * host that is not loopback unless --allow-insecure-http is given, so the line says so when the
 * emulator listens elsewhere; an address that listens everywhere (0.0.0.0, ::) is reached
 * locally through loopback.
 */
export function howToUse(baseUrl: string): string {
  const url = new URL(baseUrl);
  const command = (base: string, extra = '') => `OPENAI_BASE_URL=${base} OPENAI_API_KEY=sk-any bgprobe run --poll-interval 1${extra}`;
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') {
    url.hostname = url.hostname === '0.0.0.0' ? '127.0.0.1' : '[::1]';
    return `Use it with: ${command(url.href)} (from another machine: this machine's address instead, and --allow-insecure-http)`;
  }
  return `Use it with: ${command(baseUrl, isLoopbackHost(url.hostname) ? '' : ' --allow-insecure-http')}`;
}
