/** Exit codes of every command, as documented in the README and design.md. */
export const EXIT = Object.freeze({
  /** Terminal status `completed` (check: every required endpoint ok). */
  ok: 0,
  /** Runtime failure: network, API error, file I/O, missing key. */
  failure: 1,
  /** Usage error: bad flag or value; nothing was sent. */
  usage: 2,
  /** A terminal status other than `completed`. */
  notCompleted: 3,
  /** --max-wait passed before a terminal status. */
  deadline: 4,
  /** Interrupted by SIGINT (Ctrl-C). */
  sigint: 130,
  /** Interrupted by SIGTERM. */
  sigterm: 143,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
