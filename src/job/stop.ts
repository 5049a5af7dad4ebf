import { BgprobeError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

type StopCause = 'deadline' | 'SIGINT' | 'SIGTERM';

/**
 * Why a run ended before a terminal status, on purpose: --max-wait passed, or the user
 * interrupted. It is the abort reason of the run's signal, so it ends any wait or request at
 * once and arrives wherever the run is, carrying its exit code (4, 130 or 143).
 */
export class RunStopped extends BgprobeError {
  override name = 'RunStopped';
  readonly why: StopCause;
  constructor(cause: StopCause, maxWaitSeconds?: number) {
    super(describe(cause, maxWaitSeconds), cause === 'deadline' ? 'deadline' : 'interrupted', exitCodeFor(cause));
    this.why = cause;
  }
}

function exitCodeFor(cause: StopCause) {
  if (cause === 'deadline') return EXIT.deadline;
  return cause === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
}

function describe(cause: StopCause, maxWaitSeconds: number | undefined): string {
  if (cause === 'deadline') return `--max-wait ${maxWaitSeconds ?? ''} s passed before a terminal status`;
  return `interrupted by ${cause}`;
}

/** A run's one abort signal, fired by its deadline or by an interrupt, whichever comes first. */
export class Stopper {
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Arms --max-wait, counted from now. */
  startDeadline(maxWaitSeconds: number | undefined): void {
    if (maxWaitSeconds === undefined) return;
    this.#timer = setTimeout(() => this.stop(new RunStopped('deadline', maxWaitSeconds)), maxWaitSeconds * 1000);
  }

  stop(reason: RunStopped): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Throws the stop reason when the run is stopping: used after a step that was allowed to finish. */
  throwIfStopped(): void {
    if (this.#controller.signal.aborted) throw this.#controller.signal.reason;
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }
}

interface InterruptOptions {
  /** Says at once what the first interrupt does, when the stop it asks for must wait (a create in flight). */
  readonly onFirstInterrupt?: (signal: NodeJS.Signals) => void;
  /** Says what the user loses by a second interrupt (the response id and how to resume), before exiting. */
  readonly onSecondInterrupt: (signal: NodeJS.Signals) => void;
  /** The process by default; tests may pass any emitter. */
  readonly target?: NodeJS.EventEmitter;
  /** Exits the process; only called on a second interrupt. */
  readonly exit?: (code: number) => void;
}

/**
 * SIGINT/SIGTERM handlers for the time a command waits on the API. The first signal stops the
 * run through its Stopper, so the command can still record the id, cancel if asked, and exit
 * 130/143 through main(). Returns the function that removes the handlers.
 */
export function handleInterrupts(stopper: Stopper, options: InterruptOptions): () => void {
  const target = options.target ?? process;
  // A second interrupt means "now": the first one's orderly stop may itself be waiting on the
  // network (a cancel, a create in flight), so it exits here, not through main (src/bin.ts exits
  // when main returns).
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let seen = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // After --max-wait has already stopped the run (it may be waiting on a cancel call), the
    // first interrupt has nothing left to stop: it means "now", like a second one.
    if (seen || stopper.signal.aborted) {
      options.onSecondInterrupt(signal);
      exit(signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
      return;
    }
    seen = true;
    stopper.stop(new RunStopped(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM'));
    options.onFirstInterrupt?.(signal);
  };
  target.on('SIGINT', onSignal);
  target.on('SIGTERM', onSignal);
  return () => {
    target.off('SIGINT', onSignal);
    target.off('SIGTERM', onSignal);
  };
}
