/**
 * `npm run bench`: start-up, time to first request, a whole run against the emulator next to
 * the same flow written with the official `openai` SDK, connections and bytes per poll, poll
 * drift, a long run's report writes and schedule, and memory for a 20 MB answer. Prints Markdown
 * (for docs/performance.md) on stdout. `--quick` runs each case fewer times, for trying the
 * benchmark itself; `--only=startup,first` runs only the named sections (startup, first, run,
 * drift, longrun, memory, nodes, stream). Not part of `npm test`.
 */
import { createServer } from 'node:http';
import { cpus, loadavg, release, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bundle } from '../scripts/bundle.js';
import { measureDrift } from './drift.js';
import { nodesSection } from './nodes.js';
import { streamBench } from './stream.js';
import { measureLongRun } from './long-run.js';
import { EmulatorProcess, median, timedNode, type Timed } from './measure.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The installed command (package.json "bin"), as `npm run build` writes it. */
const BIN = join(ROOT, 'build', 'bgprobe.cjs');
/** The same program as tsc compiled it, module by module: the reference for what bundling saves. */
const UNBUNDLED = join(ROOT, 'build', 'src', 'bin.js');
const SDK_FLOW = join(import.meta.dirname, 'sdk-flow.js');
const KEY = 'sk-bench-0123456789abcdefghijklmnopqrstuvwxyz';
const quick = process.argv.includes('--quick');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
const wanted = (section: string) => only === undefined || only.includes(section);
const RUNS = quick ? { startup: 5, firstRequest: 3, flow: 2, memory: 1 } : { startup: 31, firstRequest: 15, flow: 7, memory: 3 };

const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
const ms = (value: number) => value.toFixed(0);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)} ×`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

interface Contender {
  readonly name: string;
  /** Node arguments: the script, then its own. */
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  /** Working folder, when not the benchmark's scratch folder. */
  readonly cwd?: string;
}

/** Runs every contender `runs` times, round robin, so that machine noise falls on all alike. */
async function roundRobin<T>(contenders: readonly Contender[], runs: number, once: (c: Contender, run: number) => Promise<T>): Promise<Map<string, T[]>> {
  const results = new Map<string, T[]>(contenders.map((c) => [c.name, []]));
  for (let run = 0; run < runs; run++) {
    for (const c of contenders) results.get(c.name)!.push(await once(c, run));
  }
  return results;
}

function expectCode(name: string, result: Timed, codes: readonly number[]): Timed {
  if (!codes.includes(result.code ?? -1)) throw new Error(`${name} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
  return result;
}

async function startup(work: string, bundled: string): Promise<number> {
  progress(`start-up, ${RUNS.startup} runs each`);
  const contenders: Contender[] = [
    { name: '`node -e 0`', args: ['-e', '0'] },
    { name: 'reference: `node -e` printing 2 KB', args: ['-e', "console.log('x'.repeat(2000))"] },
    { name: '`bgprobe --help`', args: [BIN, '--help'] },
    { name: '`bgprobe --version`', args: [BIN, '--version'] },
    { name: '`bgprobe policy`', args: [BIN, 'policy'] },
    { name: '`bgprobe policy --json`', args: [BIN, 'policy', '--json'] },
    { name: '`node bgprobe.mjs --help` (bundle)', args: [bundled, '--help'] },
    { name: 'reference: `node build/src/bin.js --help` (not bundled)', args: [UNBUNDLED, '--help'] },
  ];
  const results = await roundRobin(contenders, RUNS.startup, async (c) => expectCode(c.name, await timedNode(c.args, { cwd: c.cwd ?? work }), [0]).wallMs);
  const base = median(results.get(contenders[0]!.name)!);
  out('## Start-up');
  out();
  out(`Median wall time from spawn to exit over ${RUNS.startup} runs, interleaved.`);
  out();
  ratioTable('command', contenders, results, base, { names: ['`bgprobe --help`', '`bgprobe policy`', '`bgprobe policy --json`'], limit: 1.3 });
  return base;
}

/** Spawn to the first request's arrival, on a server that answers 401 so the client stops there. */
async function firstRequest(work: string, bundled: string): Promise<void> {
  progress(`time to first request, ${RUNS.firstRequest} runs each`);
  let arrived: (() => void) | undefined;
  const server = createServer((req, res) => {
    arrived?.();
    arrived = undefined;
    req.resume();
    const body = JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': 'req_bench' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
  const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: baseUrl };
  const contenders: Contender[] = [
    { name: '`node -e 0` (to exit)', args: ['-e', '0'] },
    { name: '`bgprobe run`', args: [BIN, 'run', '--output', 'first.md'], env },
    { name: '`node bgprobe.mjs run` (bundle)', args: [bundled, 'run', '--output', 'first.md'], env },
    { name: 'reference: `node build/src/bin.js run` (not bundled)', args: [UNBUNDLED, 'run', '--output', 'first.md'], env },
    { name: 'SDK flow', args: [SDK_FLOW], env: { ...env, OUTPUT: 'first-sdk.md' } },
    {
      name: 'reference: one raw undici request (`node -e`)',
      args: ['-e', `require('undici').request('${baseUrl}/responses', { method: 'POST', body: '{}' }).then((r) => r.body.dump())`],
      cwd: ROOT,
    },
  ];
  const results = await roundRobin(contenders, RUNS.firstRequest, async (c) => {
    if (c.args[1] === '0') return (await timedNode(c.args, { cwd: work })).wallMs;
    let startedAt = 0;
    let firstAt = NaN;
    const seen = new Promise<void>((resolve) => {
      arrived = () => {
        firstAt = performance.now();
        resolve();
      };
    });
    const result = await timedNode(c.args, { cwd: c.cwd ?? work, env: c.env ?? {}, onSpawn: (at) => (startedAt = at) });
    await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 1000))]);
    if (Number.isNaN(firstAt)) throw new Error(`${c.name} sent no request:\n${result.stderr}`);
    return firstAt - startedAt;
  });
  server.close();
  const base = median(results.get(contenders[0]!.name)!);
  out('## Time to first request');
  out();
  out('Median time from spawn until the create request reaches a local server (which answers 401, so each client stops there).');
  out();
  ratioTable('client', contenders, results, base, { names: ['`bgprobe run`'], limit: 2 });
}

/** One row per contender: its median, its ratio to `node -e 0`, and the target on the row it applies to. */
function ratioTable(what: string, contenders: readonly Contender[], results: Map<string, number[]>, base: number, target: { readonly names: readonly string[]; readonly limit: number }): void {
  out(`| ${what} | median (ms) | vs \`node -e 0\` | target |`);
  out('| --- | --- | --- | --- |');
  for (const c of contenders) {
    const m = median(results.get(c.name)!);
    const verdictText = target.names.includes(c.name) ? `≤ ${target.limit} ×: ${verdict(m / base <= target.limit)}` : '';
    out(`| ${c.name} | ${ms(m)} | ${ratio(m, base)} | ${verdictText} |`);
  }
  out();
}

interface FlowFigures {
  wallMs: number;
  cpuMs: number;
  rssMb: number;
  polls: number;
  connections: number;
  sentPerPoll: number;
  receivedPerPoll: number;
}

/** A whole run per contender against one emulator process; wire figures from its relay. */
async function flows(work: string, emulatorOptions: object, runs: number, contenders: readonly Contender[]): Promise<Map<string, FlowFigures[]>> {
  const emulator = await EmulatorProcess.start(emulatorOptions);
  try {
    return await roundRobin(contenders, runs, async (c, run) => {
      await emulator.reset();
      const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: emulator.baseUrl, ...c.env };
      const result = expectCode(c.name, await timedNode(c.args, { cwd: work, env, usageFile: join(work, `usage-${run}.json`) }), [0]);
      if (!/Final status: completed/.test(result.stdout)) throw new Error(`${c.name} did not complete:\n${result.stdout}`);
      const stats = await emulator.stats();
      const polls = stats.exchanges.filter((e) => e.method === 'GET');
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
      return {
        wallMs: result.wallMs,
        cpuMs: result.usage?.cpuMs ?? NaN,
        rssMb: result.usage?.maxRssMb ?? NaN,
        polls: polls.length,
        connections: stats.connections,
        sentPerPoll: mean(polls.map((e) => e.sent)),
        receivedPerPoll: mean(polls.map((e) => e.received)),
      };
    });
  } finally {
    await emulator.close();
  }
}

function flowContenders(bundled: string, output: string): Contender[] {
  return [
    { name: 'bgprobe', args: [BIN, 'run', '--poll-interval', '0.1', '--output', `${output}.md`] },
    { name: 'bgprobe bundle', args: [bundled, 'run', '--poll-interval', '0.1', '--output', `${output}-bundle.md`] },
    { name: 'openai SDK flow', args: [SDK_FLOW], env: { POLL_INTERVAL: '0.1', OUTPUT: `${output}-sdk.md` } },
  ];
}

const pick = (figures: FlowFigures[], key: keyof FlowFigures) => median(figures.map((f) => f[key]));

async function runComparison(work: string, bundled: string): Promise<void> {
  progress(`a run against the emulator, ${RUNS.flow} runs each`);
  // 0.3 s queued + 0.65 s in progress: polls 1-9 (0.1-0.9 s) see it pending, poll 10 sees completed.
  const contenders = flowContenders(bundled, 'flow');
  const results = await flows(work, { queuedMs: 300, inProgressMs: 650 }, RUNS.flow, contenders);
  out('## A run against the emulator');
  out();
  out(`Create, then polls every 0.1 s to completed (10 polls), report written; the emulator runs in its own process behind a`);
  out(`byte-counting relay. Medians of ${RUNS.flow} runs each, interleaved. CPU time and peak RSS are the client process's own`);
  out('(getrusage, read at exit).');
  out();
  out('| client | wall (ms) | CPU (ms) | peak RSS (MB) | polls | connections per run | bytes sent per poll | bytes received per poll |');
  out('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of contenders) {
    const f = results.get(c.name)!;
    out(
      `| ${c.name} | ${ms(pick(f, 'wallMs'))} | ${ms(pick(f, 'cpuMs'))} | ${pick(f, 'rssMb').toFixed(1)} | ${pick(f, 'polls')} | ${Math.max(...f.map((x) => x.connections))} | ${ms(pick(f, 'sentPerPoll'))} | ${ms(pick(f, 'receivedPerPoll'))} |`,
    );
  }
  const ours = results.get('bgprobe')!;
  const sdk = results.get('openai SDK flow')!;
  out();
  out('| bgprobe vs the SDK flow | ratio | target (at or below the SDK) |');
  out('| --- | --- | --- |');
  for (const [label, key] of [['wall', 'wallMs'], ['CPU', 'cpuMs'], ['peak RSS', 'rssMb']] as const) {
    const r = pick(ours, key) / pick(sdk, key);
    out(`| ${label} | ${r.toFixed(2)} × | ${verdict(r <= 1)} |`);
  }
  out(`| connections per run | ${Math.max(...ours.map((x) => x.connections))} (SDK: ${Math.max(...sdk.map((x) => x.connections))}) | one: ${verdict(ours.every((x) => x.connections === 1))} |`);
  out();
}

async function drift(): Promise<void> {
  progress('drift over 50 polls');
  const emulator = await EmulatorProcess.start({ queuedMs: 0, inProgressMs: 600_000 });
  try {
    const d = await measureDrift(emulator.baseUrl);
    out('## Poll schedule drift');
    out();
    out(`bgprobe's poller (src/job/poller.ts) on the real clock, ${d.polls} polls at ${d.intervalMs / 1000} s, each poll slowed by a random 0-50 ms`);
    out('(added inside the poll, as a slow network would).');
    out();
    out('| last poll late against start + 50 × interval (ms) | target | slots skipped | worst poll late against its slot (ms) | time spent in polls (ms) |');
    out('| --- | --- | --- | --- | --- |');
    out(
      `| ${d.lastLateMs.toFixed(1)} | within one interval: ${verdict(Math.abs(d.lastLateMs) <= d.intervalMs)} | ${d.skippedSlots} | ${d.worstTimerLateMs.toFixed(1)} | ${ms(d.timeInPollsMs)} |`,
    );
    out();
    out('The last column is how late the last poll would have started had the loop slept one interval after each answer.');
    out('A skipped slot means a poll took longer than the interval (on a busy machine): the next poll waits for the next slot.');
    out();
  } finally {
    await emulator.close();
  }
}

async function longRun(work: string): Promise<void> {
  const polls = quick ? 500 : 3000;
  const interval = 0.02;
  progress(`a long run: ${polls} polls at ${interval} s`);
  const f = await measureLongRun(BIN, work, KEY, polls, interval);
  const scheduleMs = polls * interval * 1000;
  const ratioToReport = f.reportBytesWritten / f.reportBytes;
  out('## A long run: report writes and schedule');
  out();
  out(`\`bgprobe run --poll-interval ${interval}\` against the emulator, which completes the response after ${polls} × ${interval} s = ${scheduleMs / 1000} s.`);
  out('Bytes written to files: what the process passed to write() (`wchar` of /proc/self/io, read at exit by the preload), less');
  out('the bytes of its requests (counted by the relay) and its stdout and stderr.');
  out();
  out('| polls made / slots | wall (s) | schedule (s) | report (KB) | written to files (KB) | written per poll (bytes) | written / report | target |');
  out('| --- | --- | --- | --- | --- | --- | --- | --- |');
  // Kept: the run ends within start-up, one slot and the final report of the schedule's end.
  const kept = f.wallMs <= scheduleMs + 2000;
  const fewTimes = ratioToReport <= 3;
  out(
    `| ${f.polls} / ${polls + 1} | ${(f.wallMs / 1000).toFixed(1)} | ${(scheduleMs / 1000).toFixed(0)} | ${(f.reportBytes / 1024).toFixed(0)} | ${(f.reportBytesWritten / 1024).toFixed(0)} | ${(f.reportBytesWritten / f.polls).toFixed(0)} | ${ratioToReport.toFixed(2)} × | wall ≤ schedule + 2 s: ${verdict(kept)}; ≤ 3 × the report: ${verdict(fewTimes)} |`,
  );
  out();
  out('Wall time includes start-up and the final report. A slot that a poll overran is skipped (src/job/poller.ts), so on a busy');
  out('machine fewer polls than slots are made while the run still ends on time.');
  out();
}

async function memory(work: string, bundled: string): Promise<void> {
  progress(`a 20 MB answer, ${RUNS.memory} runs each`);
  const contenders = flowContenders(bundled, 'large');
  const results = await flows(work, { queuedMs: 0, inProgressMs: 200, outputChars: 20_000_000 }, RUNS.memory, contenders);
  out('## Memory: a completed response with 20 MB of output text');
  out();
  out('20,000,000 characters of Markdown-like text with typographic characters (– “ ” →), so V8 holds it as UTF-16 (40 MB');
  out(`per copy) and the answer is 23 MB on the wire. Create, polls at 0.1 s, report written (it holds the text twice). ${RUNS.memory} runs each.`);
  out();
  out('| client | wall (ms) | CPU (ms) | peak RSS median (MB) | peak RSS max (MB) | target |');
  out('| --- | --- | --- | --- | --- | --- |');
  for (const c of contenders) {
    const f = results.get(c.name)!;
    const worst = Math.max(...f.map((x) => x.rssMb));
    const target = c.name.startsWith('bgprobe') ? `≤ 250 MB: ${verdict(worst <= 250)}` : '';
    out(`| ${c.name} | ${ms(pick(f, 'wallMs'))} | ${ms(pick(f, 'cpuMs'))} | ${pick(f, 'rssMb').toFixed(1)} | ${worst.toFixed(1)} | ${target} |`);
  }
  out();
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bgprobe-bench-'));
  try {
    const bundled = await bundle(join(work, 'bgprobe.mjs'));
    const cpu = cpus();
    out(`# bgprobe benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    out();
    out(`Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}.`);
    out(`Load average at start: ${loadavg().map((l) => l.toFixed(2)).join(', ')}.${quick ? ' **--quick: too few runs to quote.**' : ''}`);
    out();
    if (wanted('startup')) await startup(work, bundled);
    if (wanted('first')) await firstRequest(work, bundled);
    if (wanted('run')) await runComparison(work, bundled);
    if (wanted('drift')) await drift();
    if (wanted('longrun')) await longRun(work);
    if (wanted('memory')) await memory(work, bundled);
    if (wanted('nodes')) await nodesSection(work, RUNS.flow, out, progress);
    if (wanted('stream')) await streamBench({ work, bin: BIN, key: KEY, runs: RUNS.memory, out, progress });
    out(`Load average at end: ${loadavg().map((l) => l.toFixed(2)).join(', ')}.`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
