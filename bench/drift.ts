import { setTimeout as sleep } from 'node:timers/promises';
import { ResponsesClient } from '../src/api/client.js';
import { buildCreateBody } from '../src/api/create-body.js';
import { createDispatcher, directSettings } from '../src/api/dispatcher.js';
import { DEFAULT_INSTRUCTIONS, DEFAULT_PROMPT } from '../src/config/defaults.js';
import { systemClock, type Clock } from '../src/job/clock.js';
import { Journal } from '../src/job/journal.js';
import { pollToTerminal } from '../src/job/poller.js';

export interface Drift {
  readonly polls: number;
  readonly intervalMs: number;
  /** The figure: how late the last poll started against start + polls × interval. */
  readonly lastLateMs: number;
  /** Slots passed over because a poll overran its interval (the poller then waits for the next slot). */
  readonly skippedSlots: number;
  /** Worst lateness of a poll against the slot it slept until: timer precision. */
  readonly worstTimerLateMs: number;
  /** Time spent inside the polls (added latency included): what a sleep-after-each-answer loop would drift by. */
  readonly timeInPollsMs: number;
}

/**
 * bgprobe's own poller (job/poller.ts) on the real clock against the emulator, with a random
 * 0 to `maxLatencyMs` added to each poll, as a slow network would: each poll's start is
 * compared with the slot on the fixed schedule it slept until.
 */
export async function measureDrift(baseUrl: string, polls = 50, intervalMs = 100, maxLatencyMs = 50): Promise<Drift> {
  const network = directSettings(new URL(baseUrl), 10_000, 1 << 24);
  const client = new ResponsesClient({ ...network, apiKey: 'sk-bench-placeholder-key', createDispatcher: () => createDispatcher(network) });
  const created = await client.create(
    buildCreateBody({ model: 'gpt-5.2', instructions: DEFAULT_INSTRUCTIONS, prompt: DEFAULT_PROMPT, reasoningEffort: 'high', verbosity: 'high' }),
  );
  const starts: number[] = [];
  const timerLate: number[] = [];
  // The poller sleeps until each poll's slot; its clock is where that due time can be read.
  let due: number | undefined;
  const clock: Clock = {
    ...systemClock,
    sleep: (ms, signal) => {
      due = systemClock.monotonic() + ms;
      return systemClock.sleep(ms, signal);
    },
  };
  let timeInPollsMs = 0;
  let seed = 42;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const slowClient = {
    retrieve: async (id: string) => {
      const started = systemClock.monotonic();
      starts.push(started);
      timerLate.push(due === undefined ? 0 : started - due);
      due = undefined;
      await sleep(random() * maxLatencyMs);
      try {
        return await client.retrieve(id);
      } finally {
        timeInPollsMs += systemClock.monotonic() - started;
      }
    },
  };
  const controller = new AbortController();
  const scheduleStart = systemClock.monotonic();
  try {
    await pollToTerminal({
      client: slowClient,
      responseId: created.response.id,
      intervalMs,
      scheduleStart,
      journal: new Journal({ event() {} }, undefined),
      clock,
      signal: controller.signal,
      onPoll: (_, count) => {
        if (count >= polls) controller.abort(new Error('enough polls'));
      },
    });
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    await client.close();
  }
  const lastLateMs = (starts.at(-1) ?? NaN) - (scheduleStart + starts.length * intervalMs);
  return {
    polls: starts.length,
    intervalMs,
    lastLateMs,
    skippedSlots: Math.max(0, Math.round(lastLateMs / intervalMs)),
    worstTimerLateMs: Math.max(...timerLate),
    timeInPollsMs,
  };
}
