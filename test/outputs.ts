import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult } from './helpers.js';

/** Every output a run leaves: stdout, stderr and every file under its working folder. */
export function everyOutput(result: CliResult, dir: string): [string, string][] {
  const outputs: [string, string][] = [
    ['stdout', result.stdout],
    ['stderr', result.stderr],
  ];
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name !== '.env' && !name.endsWith('.env')) outputs.push([path, readFileSync(path, 'utf8')]);
    }
  };
  walk(dir);
  return outputs;
}

/**
 * Fails when any output holds the secret, or any eight characters of its middle (a partial
 * mask would still give a key away); the masked form `sk-...abcd` shows only the last four.
 */
export function assertNoSecret(outputs: readonly [string, string][], secret: string): void {
  const middle = secret.slice(3, -4);
  for (const [name, text] of outputs) {
    assert.ok(!text.includes(secret), `${name} contains the secret:\n${text}`);
    for (let i = 0; i + 8 <= middle.length; i += 4) {
      const piece = middle.slice(i, i + 8);
      assert.ok(!text.includes(piece), `${name} contains part of the secret (${piece}):\n${text}`);
    }
  }
}

/** The `bgprobe: ...` error lines of stderr: a failure must produce exactly one, and no stack trace. */
export function errorLines(stderr: string): string[] {
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, `stderr shows a stack trace:\n${stderr}`);
  return stderr.split('\n').filter((line) => line.startsWith('bgprobe: '));
}
