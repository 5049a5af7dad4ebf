import { build, type BuildOptions, type Plugin } from 'esbuild';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_CACHE_FILE, CODE_CACHE_OUTPUT_VARIABLE, LAUNCHER_FILE, PROGRAM_FILE } from '../src/cli/program-files.js';
import { startEmulator } from '../src/emulator/server.js';

/** The project root, from build/scripts/ (compiled) back up two folders. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The packages bundled in, whose licences must travel with the files (dotenv's BSD-2-Clause asks for it). */
const BUNDLED_PACKAGES = ['undici', 'dotenv', 'cac'];

/** Where `npm run bundle` writes the single-file build. */
export const DEFAULT_BUNDLE = join(ROOT, 'dist', 'bgprobe.mjs');

/** Where `npm run build` writes the installed command (package.json "bin") and the program it loads. */
export const INSTALLED_FOLDER = join(ROOT, 'build');

/**
 * undici loads its HTTP/2 client, and with it node:http2, node:tls and node:crypto, as soon as
 * its Agent is loaded: about 10 ms before the first request on the benchmark machine, even for
 * a plain http:// URL (docs/performance.md). bgprobe speaks HTTP/1.1 only
 * (undici 7 offers HTTP/2 only with `allowH2`, which bgprobe never sets), so the bundles carry a
 * stand-in that says so if it is ever reached.
 */
const withoutHttp2: Plugin = {
  name: 'bgprobe-without-http2',
  setup(build) {
    build.onResolve({ filter: /[/\\]client-h2(\.js)?$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'undici')}`) ? { path: args.path, namespace: 'bgprobe-without-http2' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'bgprobe-without-http2' }, () => ({
      contents: "module.exports = function connectH2 () { throw new Error('bgprobe speaks HTTP/1.1 only; this build leaves out undici\\'s HTTP/2 client') }",
      loader: 'js',
    }));
  },
};

/**
 * In an ES module bundle, esbuild hoists every `import ... from 'node:x'` to the top of the file,
 * so that `--help` would load node:tls, node:http and node:dns for check and the emulator; and it
 * leaves `await import('node:x')` as a real import, which a CommonJS bundle can only run through
 * Node's ES module loader. Turned into a `require` inside the module that needs it, a built-in
 * loads when that module first runs, in either format.
 */
const lazyBuiltins: Plugin = {
  name: 'bgprobe-lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.importer.includes(`${join(ROOT, 'src')}`) ? { path: args.path, namespace: 'bgprobe-lazy-builtin' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'bgprobe-lazy-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

/** The licences of undici, dotenv and cac, for the end of each bundle. */
function licences(): string {
  const texts = BUNDLED_PACKAGES.map((name) => {
    const { version, license } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string; license: string };
    const text = readFileSync(join(ROOT, 'node_modules', name, 'LICENSE'), 'utf8').replaceAll('*/', '* /');
    return `${name} ${version} (${license}):\n\n${text.trim()}`;
  });
  return `/*\nbgprobe bundles these packages:\n\n${texts.join('\n\n')}\n*/`;
}

/** What every bundle of the program shares. */
function programOptions(): BuildOptions {
  return {
    entryPoints: [join(ROOT, 'src', 'bin.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20.18',
    // Half the bytes to read and parse on every start.
    minify: true,
    // The licences of undici, dotenv and cac travel with the file.
    legalComments: 'eof',
    footer: { js: licences() },
    logLevel: 'warning',
  };
}

/**
 * `npm run bundle`: the CLI and its three runtime dependencies in one ES module that runs with
 * plain `node` and no node_modules. undici and dotenv are CommonJS and `require` Node's
 * built-ins; an ES module has no `require`, so the banner makes one (esbuild's shim uses it when
 * present, and otherwise throws "Dynamic require of "node:..." is not supported").
 */
export async function bundle(outfile: string = DEFAULT_BUNDLE): Promise<string> {
  await build({
    ...programOptions(),
    outfile,
    format: 'esm',
    plugins: [withoutHttp2, lazyBuiltins],
    // Lazy imports stay lazy: esbuild wraps each dynamically imported module in a function
    // that runs on first import, so `--help` still evaluates neither undici nor dotenv.
    banner: { js: "import { createRequire as __bgprobeCreateRequire } from 'node:module';\nconst require = __bgprobeCreateRequire(import.meta.url);" },
  });
  return outfile;
}

/**
 * `npm run build`: the installed command. The launcher (src/launcher.ts) answers `--help` and
 * `--version` by itself; the program, bundled with its packages, is one CommonJS file that it
 * runs otherwise, with V8's code cache for it. One file parses faster than fifty modules
 * resolved one by one, and CommonJS loads a built-in where it is required rather than all of
 * them up front.
 */
export async function bundleInstalled(folder: string = INSTALLED_FOLDER): Promise<string> {
  const launcher = join(folder, LAUNCHER_FILE);
  await Promise.all([
    build({ ...programOptions(), outfile: join(folder, PROGRAM_FILE), format: 'cjs', plugins: [withoutHttp2, lazyBuiltins] }),
    build({
      entryPoints: [join(ROOT, 'src', 'launcher.ts')],
      outfile: launcher,
      bundle: true,
      platform: 'node',
      target: 'node20.18',
      format: 'cjs',
      logLevel: 'warning',
    }),
  ]);
  chmodSync(launcher, 0o755);
  const program = join(folder, PROGRAM_FILE);
  const source = readFileSync(program, 'utf8')
    // The launcher runs the program inside a function, where src/bin.ts's `#!` line is a syntax error.
    .replace(/^#!.*\n/, '')
    // esbuild escapes non-ASCII characters in code; the licence comments keep theirs. Escaped
    // there too, the file reads as one-byte text, which V8 decodes and hashes faster.
    .replace(/[^\u0000-\u007f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeFileSync(program, source);
  rmSync(join(folder, CODE_CACHE_FILE), { force: true });
  await trainCodeCache(launcher, join(folder, CODE_CACHE_FILE));
  return launcher;
}

/**
 * V8's code cache for the program, from one short run of the installed command against the
 * emulator (on loopback; a create, a poll, the report). V8 compiles most functions only when
 * they first run, so a cache made right after compiling holds little more than the top level;
 * made at the end of a run, it holds what a run needs, and the next runs skip that compiling.
 * When the training run fails, bgprobe works the same without the cache, a little slower.
 */
async function trainCodeCache(launcher: string, cacheFile: string): Promise<void> {
  const emulator = await startEmulator({ queuedMs: 0, inProgressMs: 50 });
  const work = mkdtempSync(join(tmpdir(), 'bgprobe-build-'));
  try {
    const child = spawn(process.execPath, [launcher, 'run', '--poll-interval', '0.05', '--output', 'report.md', '--quiet'], {
      cwd: work,
      env: { PATH: process.env['PATH'] ?? '', OPENAI_API_KEY: 'sk-bgprobe-build-training-run', OPENAI_BASE_URL: emulator.baseUrl, [CODE_CACHE_OUTPUT_VARIABLE]: cacheFile },
      stdio: ['ignore', 'ignore', 'pipe'],
      // A run against a local emulator takes well under a second; never let the build hang on it.
      timeout: 60_000,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
    if (code !== 0 || !existsSync(cacheFile)) process.stderr.write(`bgprobe build: the training run for V8's code cache failed (exit ${code}); bgprobe works without it, a little slower\n${stderr}`);
  } finally {
    await emulator.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--installed') {
    await bundleInstalled();
  } else {
    const outfile = await bundle(process.argv[2] ?? DEFAULT_BUNDLE);
    process.stdout.write(`Wrote ${outfile}\n`);
  }
}
