/** Module hooks (they run on Node's loader thread): record every resolved module URL, change nothing. */
import { appendFileSync } from 'node:fs';

let traceFile: string | undefined;

export function initialize(data: { file: string }): void {
  traceFile = data.file;
}

type Resolved = { url: string };
type NextResolve = (specifier: string, context: unknown) => Promise<Resolved>;

export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<Resolved> {
  const resolved = await nextResolve(specifier, context);
  if (traceFile) appendFileSync(traceFile, `${resolved.url}\n`);
  return resolved;
}
