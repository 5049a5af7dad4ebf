import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Emulator, EmulatorOptions } from '../src/emulator/server.js';
import { emulatorFor, runMain, tempDir } from './helpers.js';
import { makeCa, makeLeaf, type TestCa } from './tls-fixtures.js';

/**
 * The API's stand-in CA: a public CA in real life, trusted here through NODE_EXTRA_CA_CERTS
 * (as Node trusts the real one through its bundled roots). Made once per test file.
 */
export const apiCa: TestCa = makeCa('bgprobe test API CA');
const apiLeaf = makeLeaf(apiCa);

/** The intercepting proxy's own CA, which nothing trusts unless a test says so. */
export const proxyCa: TestCa = makeCa('bgprobe test proxy CA');

/** The emulator over HTTPS, as the real API is served. */
export function httpsEmulatorFor(t: TestContext, options: EmulatorOptions = {}): Promise<Emulator> {
  return emulatorFor(t, { queuedMs: 50, inProgressMs: 100, ...options, tls: { key: apiLeaf.key, cert: apiLeaf.chain } });
}

/** The environment of a user of the emulator; see `bgprobe` for how the API's CA is trusted. */
export function apiEnv(emulator: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return { OPENAI_BASE_URL: emulator.baseUrl, ...extra };
}

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The working folder it ran in. */
  readonly cwd: string;
}

/**
 * Runs `main` in this process with captured streams: much cheaper than spawning a CLI per case,
 * which keeps the suite fast on shared cores. Node reads NODE_EXTRA_CA_CERTS only at start-up,
 * so the API's CA is trusted here through a .env file, which bgprobe honours for that variable.
 * Tests that need the real start-up behaviour spawn the CLI instead.
 */
export async function bgprobe(t: TestContext, args: readonly string[], env: Record<string, string>, cwd: string = tempDir(t)): Promise<InProcessResult> {
  writeFileSync(join(cwd, '.env'), `NODE_EXTRA_CA_CERTS=${apiCa.certPath}\n`);
  const { code, stdout, stderr } = await runMain(args, env, cwd);
  return { code, stdout, stderr, cwd };
}

/** host:port of the emulator, as a CONNECT names it. */
export function authorityOf(emulator: Emulator): string {
  return new URL(emulator.baseUrl).host;
}

export interface CheckJson {
  ok: boolean;
  notes: string[];
  proxy: string;
  stages: { name: string; status: string; detail: string; hint: string | null; trusted_by?: string | null; intercepted?: boolean; chain?: { subject: string; issuer: string; sha256: string }[] }[];
  endpoints: { name: string; verdict: string; status: number | null; answered_by: string | null; cause?: string; detail: string; hint: string | null; required: boolean }[];
}

/** One endpoint of check --json: its verdict, cause, who answered, and the words. */
export type CheckEndpoint = CheckJson['endpoints'][number];

export function verdicts(json: CheckJson): Record<string, string> {
  return Object.fromEntries(json.endpoints.map((e) => [e.name, e.verdict]));
}

export function stage(json: CheckJson, name: string): CheckJson['stages'][number] {
  const found = json.stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name} in ${JSON.stringify(json.stages.map((s) => s.name))}`);
  return found;
}
