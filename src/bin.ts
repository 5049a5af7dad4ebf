#!/usr/bin/env node
import { main } from './cli.js';
import { writeErrorLine } from './cli/outcome.js';
import { EXIT } from './exit-codes.js';
import { NoWorkingFolder, processIo, type ProcessStream } from './io.js';

// No top-level await: the installed command is this file bundled as CommonJS (scripts/bundle.ts).
start();

function start(): void {
  let io: ReturnType<typeof processIo>;
  try {
    io = processIo();
  } catch (error) {
    if (!(error instanceof NoWorkingFolder)) throw error;
    process.stderr.on('error', () => {});
    writeErrorLine(process.stderr, error.message);
    exitOnceFlushed(EXIT.failure, [process.stderr]);
    return;
  }
  void main(process.argv.slice(2), io).then((code) => exitOnceFlushed(code, [io.stdout as ProcessStream, io.stderr as ProcessStream]));
}

/**
 * The command is over: its output and its report are written. What it started and could not
 * cancel must not hold the process open: a DNS lookup that outlived --timeout runs on in
 * Node's thread pool (getaddrinfo cannot be aborted) until the resolver gives up, which on a
 * sandbox with a dead resolver can be half a minute after the verdict. Exits once stdout and
 * stderr have taken everything written to them (a pipe may still be writing on some systems);
 * a stream whose reader is gone has nothing left to flush.
 */
function exitOnceFlushed(code: number, streams: readonly ProcessStream[]): void {
  process.exitCode = code;
  let open = streams.length;
  const flushed = () => {
    open -= 1;
    if (open === 0) process.exit(code);
  };
  for (const stream of streams) {
    if (stream.bgprobeWritable === false) {
      flushed();
      continue;
    }
    // A stream that fails now calls back with the error, or emits it: either way it is done, once.
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      flushed();
    };
    stream.once('error', once);
    stream.write('', once);
  }
}
