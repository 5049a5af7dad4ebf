/**
 * undici parses HTTP with llhttp compiled to WebAssembly, and after a few answers V8 recompiles
 * its hot functions with its optimizing compiler, which costs memory and CPU: measured on a
 * 10-poll run (docs/performance.md, "Node lines side by side"), peak RSS 91 -> 55 MB on Node 20
 * (V8 11) and 82 -> 65 MB on Node 22 (V8 12) with the baseline compiler only, and about 250 ms
 * less CPU on both. On Node 24 (V8 13) it buys nothing (85 MB and the same CPU either way) and
 * would still cost loading node:v8, so it is not set there. That compiler parses a Response of a
 * few KB in microseconds, so llhttp stays on it. The flag must be set (with node:v8's
 * setFlagsFromString) before undici compiles llhttp, and only on the V8 versions known to have
 * it: V8 prints an unknown flag's error on stdout. The installed command sets it before anything
 * is compiled (src/launcher.ts), as V8 accepts a code cache only under the flags it was made
 * with. test/installed.test.ts fails when it stops applying on a line where it is set.
 *
 * Returns the flag to set, or undefined where it does not pay. It imports nothing, so that the
 * launcher loads node:v8 only when it runs the program, not to print `--help`.
 */
export function baselineWasmFlag(): string | undefined {
  return LIFTOFF_ONLY_V8_MAJORS.includes(Number(process.versions.v8.split('.')[0])) ? '--liftoff-only' : undefined;
}

/** The V8 major versions where `--liftoff-only` was measured to pay: Node 20 (11) and 22 (12). */
const LIFTOFF_ONLY_V8_MAJORS: readonly number[] = [11, 12];
