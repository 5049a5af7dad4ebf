/**
 * Stream mode's figures for `npm run bench` (section `stream`): how long after the server's
 * completion bgprobe knows it, streaming and polling at the default interval, and the peak
 * memory of a 20 MB streamed answer next to the same answer polled.
 */
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/server.js';
import { EmulatorProcess, median, timedNode } from './measure.js';

export interface StreamBenchContext {
  readonly work: string;
  readonly bin: string;
  readonly key: string;
  readonly runs: number;
  readonly out: (line?: string) => void;
  readonly progress: (line: string) => void;
}

const QUEUED_MS = 300;
/** When each run's response completes, after its queued time: spread over the 10 s poll interval, so polling's delay is not one lucky phase. */
const IN_PROGRESS_MS = [1200, 4700, 8200];

/** Milliseconds from the server's completion to the moment bgprobe's stderr says it knows it. */
async function knowsCompletionAfter(context: StreamBenchContext, args: readonly string[], inProgressMs: number, output: string): Promise<number> {
  const emulator = await startEmulator({ queuedMs: QUEUED_MS, inProgressMs });
  try {
    const env = { OPENAI_API_KEY: context.key, OPENAI_BASE_URL: emulator.baseUrl };
    const result = await timedNode([context.bin, 'run', ...args, '--output', output], { cwd: context.work, env });
    if (result.code !== 0) throw new Error(`bgprobe run ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
    const create = emulator.requests.find((r) => r.method === 'POST');
    const line = /^(\S+) \S+ +Response \S+ reached terminal status completed$/m.exec(result.stderr);
    if (!create || !line?.[1]) throw new Error(`no completion line:\n${result.stderr.slice(-2000)}`);
    return Date.parse(line[1]) - (create.receivedAt + QUEUED_MS + inProgressMs);
  } finally {
    await emulator.close();
  }
}

export async function streamBench(context: StreamBenchContext): Promise<void> {
  const { out, progress, runs, work } = context;
  progress(`stream mode: completion latency, ${IN_PROGRESS_MS.length} phases × ${runs} runs each for stream and polling (10 s)`);
  const latencies = { stream: [] as number[], polling: [] as number[] };
  for (let run = 0; run < runs; run++) {
    for (const inProgressMs of IN_PROGRESS_MS) {
      latencies.stream.push(await knowsCompletionAfter(context, ['--stream'], inProgressMs, 'latency-stream.md'));
      latencies.polling.push(await knowsCompletionAfter(context, [], inProgressMs, 'latency-poll.md'));
    }
  }
  out('## Stream mode: how soon bgprobe knows the response completed');
  out();
  out(`The emulator completes the response ${IN_PROGRESS_MS.map((ms) => (QUEUED_MS + ms) / 1000).join(', ')} s after the create; the figure is the time`);
  out("from that moment to bgprobe's `reached terminal status completed` line (its own millisecond timestamp, same machine clock).");
  out(`Polling runs at the default interval (10 s). ${runs} run${runs === 1 ? '' : 's'} per phase.`);
  out();
  out('| mode | median (ms) | worst (ms) | target |');
  out('| --- | --- | --- | --- |');
  const worstStream = Math.max(...latencies.stream);
  out(`| \`run --stream\` | ${median(latencies.stream).toFixed(0)} | ${worstStream.toFixed(0)} | < 100 ms: ${worstStream < 100 ? 'met' : '**missed**'} |`);
  out(`| \`run\` (polling every 10 s) | ${median(latencies.polling).toFixed(0)} | ${Math.max(...latencies.polling).toFixed(0)} | |`);
  out();

  progress(`stream mode: a 20 MB streamed answer, ${runs} runs each`);
  const emulator = await EmulatorProcess.start({ queuedMs: 0, inProgressMs: 200, outputChars: 20_000_000 });
  const rss = { stream: [] as number[], polling: [] as number[] };
  try {
    for (let run = 0; run < runs; run++) {
      for (const [mode, args] of [['stream', ['--stream']], ['polling', ['--poll-interval', '0.1']]] as const) {
        const env = { OPENAI_API_KEY: context.key, OPENAI_BASE_URL: emulator.baseUrl };
        const result = await timedNode([context.bin, 'run', ...args, '--output', `large-${mode}.md`], { cwd: work, env, usageFile: join(work, `usage-stream-${run}.json`) });
        if (result.code !== 0 || !/Final status: completed/.test(result.stdout)) throw new Error(`${mode} run failed:\n${result.stderr.slice(-2000)}`);
        rss[mode].push(result.usage?.maxRssMb ?? Number.NaN);
      }
    }
  } finally {
    await emulator.close();
  }
  out('## Stream mode: memory of a 20 MB streamed answer');
  out();
  out('The same 20,000,000-character answer as above (typographic characters, so UTF-16 in V8), streamed as some 300 text deltas and the');
  out('done events that each repeat the whole text, then the report written; next to the same answer polled. Peak RSS of the client.');
  out();
  out('| mode | peak RSS median (MB) | peak RSS max (MB) | target |');
  out('| --- | --- | --- | --- |');
  const worst = Math.max(...rss.stream);
  out(`| \`run --stream\` | ${median(rss.stream).toFixed(1)} | ${worst.toFixed(1)} | within polling's 250 MB: ${worst <= 250 ? 'met' : '**missed**'} |`);
  out(`| \`run\` (polling) | ${median(rss.polling).toFixed(1)} | ${Math.max(...rss.polling).toFixed(1)} | ≤ 250 MB |`);
  out();
}
