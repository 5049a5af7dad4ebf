import { EXIT } from '../exit-codes.js';
import { RunStopped, type Stopper } from './stop.js';

export interface InterruptOptions {
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
  // network (a cancel, a create in flight), so this is the one place that calls process.exit.
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let seen = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (seen) {
      options.onSecondInterrupt(signal);
      exit(signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
      return;
    }
    seen = true;
    stopper.stop(new RunStopped(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM'));
  };
  target.on('SIGINT', onSignal);
  target.on('SIGTERM', onSignal);
  return () => {
    target.off('SIGINT', onSignal);
    target.off('SIGTERM', onSignal);
  };
}
