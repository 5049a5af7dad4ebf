import type { Redactor } from './redact.js';

/** What a command may touch of its process: streams, environment, working folder. Tests pass their own. */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  /** Width of the terminal, when the sink is one. */
  readonly columns?: number | undefined;
  /**
   * stdout only: writes text whose control characters the caller has already replaced, keeping
   * the colour codes it added itself (`check` on a terminal); `write` would replace those too.
   */
  readonly writeStyled?: ((text: string) => unknown) | undefined;
}

export interface Io {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * The process's one Redactor. `main` makes it (or takes the one given), registers the
   * environment's and `--proxy`'s secrets, and routes stdout and stderr through it; the .env
   * file's secrets are added where the file is read (src/config/environment.ts). Commands pass
   * it on to the report, the other place output leaves the process; they never apply it.
   */
  readonly redactor: Redactor;
  /** The command line after `bgprobe`, as typed (`main` sets it): the report shows it, masked. */
  readonly argv?: readonly string[];
}

/** What `main` is given (by src/bin.ts or a test): the process's streams, before main masks them. */
export interface GivenIo extends Omit<Io, 'redactor'> {
  readonly redactor?: Redactor | undefined;
}

/** The working folder is gone (deleted under a running shell): nothing relative can be resolved. */
export class NoWorkingFolder extends Error {
  constructor(readonly code: string) {
    super(`the working folder cannot be read (${code}: it was probably deleted); cd to an existing folder and run bgprobe again`);
  }
}

export function processIo(): GivenIo {
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch (error) {
    throw new NoWorkingFolder((error as NodeJS.ErrnoException).code ?? 'error');
  }
  return { stdout: droppingWhenClosed(process.stdout), stderr: droppingWhenClosed(process.stderr), env: process.env, cwd };
}

/** A process stream that can still be written to, as far as bgprobe knows. */
export interface ProcessStream extends NodeJS.WriteStream {
  /** False once a write failed (EPIPE: the reader is gone, EIO, ENOSPC on a file): later writes are dropped. */
  readonly bgprobeWritable?: boolean;
}

/**
 * A process stream whose failures never stop the command. When the reader of a pipe goes away
 * (`bgprobe run 2>&1 >/dev/null | head -1`, `| true`), Node reports EPIPE as an 'error' event,
 * which nobody handling it turns into a crash: the run would die with the response still
 * running and nobody following it. Here a failed stream is marked and every later write is
 * dropped quietly; the run goes on to its end, writes its report, and exits by the response's
 * status. A write that throws at once is dropped the same way.
 */
function droppingWhenClosed(stream: NodeJS.WriteStream): ProcessStream {
  let writable = true;
  stream.on('error', () => {
    writable = false;
  });
  return new Proxy(stream, {
    get(target, property) {
      if (property === 'bgprobeWritable') return writable && !target.destroyed;
      if (property === 'write') {
        return (chunk: unknown, ...rest: unknown[]) => {
          if (!writable || target.destroyed) return true;
          try {
            return (target.write as (...args: unknown[]) => boolean)(chunk, ...rest);
          } catch {
            writable = false;
            return true;
          }
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as ProcessStream;
}
