import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EmulateFlags } from '../cli/flags.js';
import { isLoopbackHost, parseSeconds, parseText, parseWholeNumber } from '../config/values.js';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator, type ServedRequest } from '../emulator/server.js';
import { oneLine, shellWord } from '../text.js';
import { EXIT } from '../exit-codes.js';
import type { CommandOutcome } from '../cli/outcome.js';
import { SetupError, UsageError } from '../errors.js';
import { parseFaults, type Fault } from '../emulator/faults.js';
import type { Io } from '../io.js';

/**
 * `bgprobe emulate`: serve the emulator until SIGINT or SIGTERM. Long-running, so what it says
 * while serving (the address on stdout, the request log on stderr) is written as it happens;
 * its outcome is its exit once it has stopped.
 */
export async function emulateCommand(flags: EmulateFlags, io: Io): Promise<CommandOutcome> {
  const { port, host, queuedSeconds: queued, runningSeconds: running, finalStatus, outputText, fault: faultText } = flags;
  const faults = faultText === undefined ? [] : parseFaultFlag(faultText);
  const tls = readTlsFlags(flags.tlsCert, flags.tlsKey, io.cwd);
  const options = {
    port: port === undefined ? 0 : parseWholeNumber('--port', port, 0, 65535),
    host: host ?? '127.0.0.1',
    queuedMs: queued === undefined ? EMULATOR_DEFAULTS.queuedMs : phaseSeconds('--queued-seconds', queued) * 1000,
    inProgressMs: running === undefined ? EMULATOR_DEFAULTS.inProgressMs : phaseSeconds('--running-seconds', running) * 1000,
    finalStatus: finalStatus === undefined ? EMULATOR_DEFAULTS.finalStatus : parseText('--final-status', finalStatus).trim(),
    ...(outputText === undefined ? {} : { outputText }),
    neverFinish: flags.neverFinish,
    faults,
    ...(tls ? { tls } : {}),
    onRequest: (served: ServedRequest) => io.stderr.write(requestLine(served)),
  };
  let emulator: Emulator;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    throw cannotListen(error, options.host, options.port, tls !== undefined);
  }
  io.stdout.write(`bgprobe emulator listening on ${emulator.baseUrl}\n`);
  if (faults.length > 0) io.stderr.write(`Scripted faults: ${faultText}\n`);
  io.stderr.write(`${howToUse(emulator.baseUrl, tls?.certPath)}\nPress Ctrl-C to stop; each request is logged below.\n`);
  const signal = await Promise.race([once(process, 'SIGINT').then(() => 'SIGINT'), once(process, 'SIGTERM').then(() => 'SIGTERM')]);
  await emulator.close();
  io.stderr.write(`Emulator stopped (${signal}); it served ${emulator.requests.length} requests.\n`);
  return { exitCode: EXIT.ok };
}

/** `2026-11-26T08:53:30.146Z POST /v1/responses -> 200 in 3 ms`: one line per request, as an access log has. */
export function requestLine(served: ServedRequest, now: Date = new Date()): string {
  const outcome = served.status === undefined ? 'closed without an answer' : String(served.status);
  return `${now.toISOString()} ${oneLine(served.method)} ${oneLine(served.url)} -> ${outcome} in ${Math.round(served.durationMs)} ms\n`;
}

/** --tls-cert and --tls-key: both or neither, each a readable PEM file. */
function readTlsFlags(certPath: string | undefined, keyPath: string | undefined, cwd: string): { cert: string; key: string; certPath: string } | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new UsageError(`${certPath === undefined ? '--tls-key' : '--tls-cert'} given alone; HTTPS needs both --tls-cert and --tls-key (PEM files)`);
  }
  const read = (flag: string, path: string, marker: RegExp, what: string) => {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, path), 'utf8');
    } catch (error) {
      throw new UsageError(`${flag} ${JSON.stringify(path)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); give a PEM file`);
    }
    if (!marker.test(text)) throw new UsageError(`${flag} ${JSON.stringify(path)} is not a PEM file with ${what}; give one such as openssl writes`);
    return text;
  };
  return { cert: read('--tls-cert', certPath, /-----BEGIN CERTIFICATE-----/, 'a certificate'), key: read('--tls-key', keyPath, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'), certPath };
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
function cannotListen(error: unknown, host: string, port: number, tls: boolean): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  // Node's TLS layer refuses a key that does not go with the certificate, or PEM it cannot parse.
  if (tls && (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || /^ERR_OSSL/.test(code ?? '') || /key values mismatch|PEM/i.test(String((error as Error).message)))) {
    return new UsageError(`--tls-cert and --tls-key do not make a usable pair (${code ?? (error as Error).message}); give the key that goes with the certificate`);
  }
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
export function howToUse(baseUrl: string, certPath?: string): string {
  const url = new URL(baseUrl);
  const plain = url.protocol === 'http:';
  // A self-signed certificate is its own CA; one signed by a CA needs that CA's file instead.
  const trust = certPath === undefined ? '' : ` --ca-file ${shellWord(certPath)}`;
  const trustNote = certPath === undefined ? '' : ' (--ca-file: the certificate itself when it is self-signed, else the CA that signed it)';
  const command = (base: string, extra = '') => `OPENAI_BASE_URL=${base} OPENAI_API_KEY=sk-any bgprobe run --poll-interval 1${trust}${extra}`;
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') {
    url.hostname = url.hostname === '0.0.0.0' ? '127.0.0.1' : '[::1]';
    return `Use it with: ${command(url.href)}${trustNote} (from another machine: this machine's address instead${plain ? ', and --allow-insecure-http' : ''})`;
  }
  return `Use it with: ${command(baseUrl, plain && !isLoopbackHost(url.hostname) ? ' --allow-insecure-http' : '')}${trustNote}`;
}
