#!/usr/bin/env node
/**
 * The installed `bgprobe` command. scripts/bundle.ts turns this file into build/bgprobe.cjs, a
 * few KB with the help texts in it, and the whole program (src/bin.ts) into
 * build/bgprobe-app.cjs. Asking for help, the version or the policy reads only the small file;
 * anything else loads the program. CommonJS, because Node starts an ES module more slowly.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baselineWasmFlag } from './api/wasm-tier.js';
import { EXIT } from './exit-codes.js';
import { CODE_CACHE_FILE, CODE_CACHE_OUTPUT_VARIABLE, PROGRAM_FILE } from './cli/program-files.js';
import { programScript } from './cli/program-script.js';
import { quickAnswer } from './cli/quick.js';
import { quickPolicy } from './cli/quick-policy.js';

/**
 * Runs the bundled program as Node's CommonJS loader would, but hands V8 the code cache that
 * the build made: parsing and compiling the program is the largest single cost before the
 * first request.
 */
function runProgram(): void {
  // Before compiling: the flags are part of what a code cache must match. Required here, not
  // imported, so that printing --help does not load node:v8.
  const wasmFlag = baselineWasmFlag();
  if (wasmFlag) (require('node:v8') as typeof import('node:v8')).setFlagsFromString(wasmFlag);
  // Beside this file once bundled (build/src/launcher.js, the plain compiled copy, is never run).
  const file = join(__dirname, PROGRAM_FILE);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    process.stderr.write(`bgprobe: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}), which holds the program: the install is incomplete; reinstall bgprobe (from a clone: npm ci)\n`);
    process.exitCode = EXIT.failure;
    return;
  }
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(join(__dirname, CODE_CACHE_FILE));
  } catch {
    cachedData = undefined; // V8 compiles from source
  }
  const script = programScript(file, source, cachedData);
  // The build's training run (scripts/bundle.ts): keep what V8 compiled, once the run is over.
  const cacheOutput = process.env[CODE_CACHE_OUTPUT_VARIABLE];
  if (cacheOutput) process.once('exit', () => writeFileSync(cacheOutput, script.createCachedData()));
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  const program = { exports: {} };
  wrapper.call(program.exports, program.exports, require, program, file, __dirname);
}

const args = process.argv.slice(2);
/** The working folder, or undefined when it was deleted: the program then says so in one line. */
function workingFolder(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}
const cwd = workingFolder();
const answer = quickAnswer(args) ?? (cwd === undefined ? undefined : quickPolicy(args, process.env, cwd));
if (answer === undefined) runProgram();
else process.stdout.write(answer);
