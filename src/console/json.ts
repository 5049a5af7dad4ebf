import type { TextSink } from '../io.js';
import type { Redactor } from '../redact.js';

/**
 * `--json`: exactly one JSON object on stdout and nothing else there. Every command that
 * supports it builds its summary object and hands it here, redacted like any other output.
 */
export function writeJson(stdout: TextSink, redactor: Redactor, value: unknown): void {
  stdout.write(`${redactor.apply(JSON.stringify(value, null, 2))}\n`);
}
