import { BgprobeError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

export type StopCause = 'deadline' | 'SIGINT' | 'SIGTERM';

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

  /** Why the run is stopping, once it is. */
  get reason(): RunStopped | undefined {
    return this.#controller.signal.aborted ? (this.#controller.signal.reason as RunStopped) : undefined;
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
