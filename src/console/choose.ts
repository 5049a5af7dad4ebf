import type { Clock } from '../job/clock.js';
import { liveProgress } from './live-line.js';
import { lineProgress, quietProgress, type Progress, type ProgressContext } from './progress.js';

/** The Progress a run gets: silent with --quiet, a live status line on a terminal, plain lines otherwise. */
export function chooseProgress(context: ProgressContext, clock: Pick<Clock, 'monotonic'>, startedAt: number): Progress {
  const { stderr, redactor, options } = context;
  if (options.verbosity === 'quiet') return quietProgress;
  if (options.live) return liveProgress(context, clock, startedAt);
  return lineProgress(stderr, redactor, options);
}
