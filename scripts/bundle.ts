import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, from build/scripts/ (compiled) back up two folders. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The packages bundled in, whose licences must travel with the file (dotenv's BSD-2-Clause asks for it). */
const BUNDLED_PACKAGES = ['undici', 'dotenv', 'cac'];

/** Where `npm run bundle` writes the single-file build. */
export const DEFAULT_BUNDLE = join(ROOT, 'dist', 'bgprobe.mjs');

/**
 * Bundles the CLI and its three runtime dependencies into one ES module that runs with plain
 * `node` and no node_modules. undici and dotenv are CommonJS and `require` Node's built-ins;
 * an ES module has no `require`, so the banner makes one (esbuild's shim uses it when present,
 * and otherwise throws "Dynamic require of "node:..." is not supported").
 */
export async function bundle(outfile: string = DEFAULT_BUNDLE, options: { readonly externalPackages?: boolean } = {}): Promise<string> {
  const licences = BUNDLED_PACKAGES.map((name) => {
    const { version, license } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string; license: string };
    const text = readFileSync(join(ROOT, 'node_modules', name, 'LICENSE'), 'utf8').replaceAll('*/', '* /');
    return `${name} ${version} (${license}):\n\n${text.trim()}`;
  });
  await build({
    entryPoints: [join(ROOT, 'src', 'bin.ts')],
    outfile,
    bundle: true,
    // For the benchmark's comparison only: bgprobe's own modules in one file, its packages from node_modules.
    ...(options.externalPackages ? { packages: 'external' as const } : {}),
    platform: 'node',
    format: 'esm',
    target: 'node20.18',
    // Lazy imports stay lazy: esbuild wraps each dynamically imported module in a function
    // that runs on first import, so `--help` still evaluates neither undici nor dotenv.
    banner: { js: "import { createRequire as __bgprobeCreateRequire } from 'node:module';\nconst require = __bgprobeCreateRequire(import.meta.url);" },
    // Half the bytes to read and parse on every start (the whole file is parsed even for --help).
    minify: true,
    // The licences of undici, dotenv and cac travel with the copied file.
    legalComments: 'eof',
    footer: { js: `/*\nbgprobe bundles these packages:\n\n${licences.join('\n\n')}\n*/` },
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outfile = await bundle(process.argv[2] ?? DEFAULT_BUNDLE);
  process.stdout.write(`Wrote ${outfile}\n`);
}
