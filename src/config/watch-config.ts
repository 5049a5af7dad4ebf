import { UsageError } from '../errors.js';
import { DEFAULTS } from './defaults.js';
import type { PollFlags } from '../cli/flags.js';
import { parseSeconds, parseText } from './values.js';
import { deepFreeze } from './freeze.js';

/** How a command follows a response to its end: the settings `run` and `poll` share. */
export interface WatchConfig {
  readonly pollIntervalSeconds: number;
  readonly outputPath: string;
  /** --max-wait: the run gives up (exit 4) when it passes before a terminal status. */
  readonly maxWaitSeconds: number | undefined;
  readonly cancelOnTimeout: boolean;
  readonly cancelOnInterrupt: boolean;
}

/** The flags run and poll share for following a response. */
type WatchFlags = Pick<PollFlags, 'pollInterval' | 'maxWait' | 'output' | 'cancelOnTimeout' | 'cancelOnInterrupt'>;

/** Resolved once and frozen, as the rest of the configuration. */
export function resolveWatchConfig(flags: WatchFlags, emulator: boolean): WatchConfig {
  const pollRaw = flags.pollInterval;
  const maxWaitRaw = flags.maxWait;
  const output = flags.output;
  const cancelOnTimeout = flags.cancelOnTimeout;
  if (cancelOnTimeout && maxWaitRaw === undefined) {
    throw new UsageError('--cancel-on-timeout needs --max-wait SECONDS; without a deadline there is no timeout to cancel on');
  }
  return deepFreeze({
    pollIntervalSeconds:
      pollRaw !== undefined
        ? parseSeconds('--poll-interval', pollRaw)
        : emulator
          ? DEFAULTS.emulatorPollIntervalSeconds
          : DEFAULTS.pollIntervalSeconds,
    outputPath: output === undefined ? DEFAULTS.outputPath : parseText('--output', output),
    maxWaitSeconds: maxWaitRaw === undefined ? undefined : parseSeconds('--max-wait', maxWaitRaw),
    cancelOnTimeout,
    cancelOnInterrupt: flags.cancelOnInterrupt,
  });
}
