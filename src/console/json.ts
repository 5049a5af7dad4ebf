import type { TextSink } from '../io.js';

/**
 * `--json`: exactly one JSON object on stdout and nothing else there. Only `main` calls it, with
 * the command's outcome or its own error object; main's stdout masks secrets like any output.
 */
export function writeJson(stdout: TextSink, value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
