/**
 * undici parses HTTP with llhttp compiled to WebAssembly, and after a few answers V8 recompiles
 * its hot functions with its optimizing compiler, which costs about 35 MB of peak RSS: measured
 * on Node 20, 62 MB after one request and 96 MB after ten; 62 MB after ten with the baseline
 * compiler only. That compiler parses a Response of a few KB in microseconds, so llhttp stays on
 * it. The flag must be set (with node:v8's setFlagsFromString) before undici compiles llhttp,
 * and only on the V8 versions known to have it (Node 20 to 24): V8 prints an unknown flag's
 * error on stdout. The installed command sets it before anything is compiled
 * (src/launcher.ts), as V8 accepts a code cache only under the flags it was made with.
 *
 * Returns the flag to set, or undefined on a V8 without it. It imports nothing, so that the
 * launcher loads node:v8 only when it runs the program, not to print `--help`.
 */
export function baselineWasmFlag(): string | undefined {
  const major = Number(process.versions.v8.split('.')[0]);
  return major >= 11 && major <= 13 ? '--liftoff-only' : undefined;
}
