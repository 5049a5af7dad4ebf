#!/usr/bin/env node
import { main } from './cli.js';
import { processIo } from './io.js';

// No top-level await: the installed command is this file bundled as CommonJS (scripts/bundle.ts).
void main(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
