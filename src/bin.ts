#!/usr/bin/env node
import { main } from './cli.js';
import { processIo } from './io.js';

// No top-level await: the installed command is this file bundled as CommonJS (scripts/bundle.ts).
void main(process.argv.slice(2), processIo()).then(exitOnceFlushed);

/**
 * The command is over: its output and its report are written. What it started and could not
 * cancel must not hold the process open: a DNS lookup that outlived --timeout runs on in
 * Node's thread pool (getaddrinfo cannot be aborted) until the resolver gives up, which on a
 * sandbox with a dead resolver can be half a minute after the verdict. Exits once stdout and
 * stderr have taken everything written to them (a pipe may still be writing on some systems).
 */
function exitOnceFlushed(code: number): void {
  process.exitCode = code;
  let open = 2;
  const flushed = () => {
    open -= 1;
    if (open === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}
