import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { emulatorFor, envFor, runMain, singleJsonObject, tempDir } from './helpers.js';

/** `run --stream` against an emulator, in this process; returns the run, its --json object and its report. */
export async function streamRun(t: TestContext, emulatorOptions: Parameters<typeof emulatorFor>[1], extra: string[] = []) {
  const emulator = await emulatorFor(t, emulatorOptions);
  const cwd = tempDir(t);
  const run = await runMain(['run', '--stream', '--json', '--poll-interval', '0.2', '--output', 'r.md', ...extra], envFor(emulator), cwd);
  const summary = singleJsonObject(run.stdout);
  return { emulator, run, summary, stream: summary['stream'] as Record<string, unknown>, report: readFileSync(join(cwd, 'r.md'), 'utf8') };
}

