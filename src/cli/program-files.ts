/** The files of the installed command (package.json "bin"), as scripts/bundle.ts writes them into build/. */

/** The launcher (src/launcher.ts): `--help` and `--version`, and what loads the program. */
export const LAUNCHER_FILE = 'bgprobe.cjs';
/** The whole program (src/bin.ts) with undici, dotenv and cac, as one CommonJS file. */
export const PROGRAM_FILE = 'bgprobe-app.cjs';
/** V8's compiled form of the program, beside it, made when bgprobe is built; V8 ignores it under another Node. */
export const CODE_CACHE_FILE = `${PROGRAM_FILE}.v8-cache`;
/** Set by the build's training run only: where the launcher writes the code cache when the run ends. */
export const CODE_CACHE_OUTPUT_VARIABLE = 'BGPROBE_BUILD_CODE_CACHE';
