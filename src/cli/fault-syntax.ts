/**
 * The syntax of `bgprobe emulate --fault`, written once: the --fault line of `emulate --help`
 * (commands.ts) and the emulator's refusal of a malformed fault (emulator/faults.ts) both print
 * it, and test/fault-syntax.test.ts keeps it, the help and the README's table of actions in step
 * with the actions the emulator parses. It imports nothing, as commands.ts, whose `--help` the
 * installed command answers without loading the program.
 */
export const FAULT_SYNTAX =
  'CALLN=ACTION, comma-separated; CALL is create, poll, cancel or stream, N counts from 1 (N+ means N and later); ' +
  'ACTION is drop, an HTTP status such as 503 (with :retry-after=SECONDS, :retry-after-ms=MS or :quota), slow:MS, large:BYTES, not-json, no-status, wrong-id or status:WORD; ' +
  'for streams also drop-after:SEQ, too-old, buffer or error-event';
