/**
 * A long run at a short interval (3,000 polls at 0.02 s): what the report costs per poll on the
 * disk, and whether the run keeps to its fixed schedule. The emulator completes the response
 * after polls × interval; a process that fell behind skips the slots it missed (src/job/poller.ts),
 * so the polls made against the polls scheduled show whether the schedule was kept.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { EmulatorProcess, timedNode } from './measure.js';

export interface LongRunFigures {
  readonly scheduledPolls: number;
  readonly intervalSeconds: number;
  readonly polls: number;
  readonly wallMs: number;
  readonly reportBytes: number;
  /** Bytes the process wrote to files: everything it wrote, less what it sent on the wire and printed. */
  readonly reportBytesWritten: number;
}

export async function measureLongRun(bin: string, work: string, key: string, scheduledPolls: number, intervalSeconds: number): Promise<LongRunFigures> {
  const emulator = await EmulatorProcess.start({ queuedMs: 0, inProgressMs: Math.round(scheduledPolls * intervalSeconds * 1000) });
  try {
    const output = join(work, 'long-run.md');
    const usageFile = join(work, 'long-run-usage.json');
    const env = { OPENAI_API_KEY: key, OPENAI_BASE_URL: emulator.baseUrl };
    const result = await timedNode([bin, 'run', '--quiet', '--poll-interval', String(intervalSeconds), '--output', output], { cwd: work, env, usageFile });
    if (result.code !== 0) throw new Error(`the long run exited ${result.code}:\n${result.stderr.slice(-2000)}`);
    const written = result.usage?.writtenBytes;
    if (written === undefined) throw new Error('no write count (the long-run figure needs /proc/self/io, Linux)');
    const stats = await emulator.stats();
    const sentOnWire = stats.exchanges.reduce((sum, e) => sum + e.sent, 0);
    const printed = Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr);
    return {
      scheduledPolls,
      intervalSeconds,
      polls: stats.exchanges.filter((e) => e.method === 'GET').length,
      wallMs: result.wallMs,
      reportBytes: statSync(output).size,
      reportBytesWritten: written - sentOnWire - printed,
    };
  } finally {
    await emulator.close();
  }
}
