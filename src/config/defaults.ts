/** The defaults bgprobe inherited from the seed script it replaces. */
export const DEFAULTS = Object.freeze({
  model: 'gpt-5.2',
  pollIntervalSeconds: 10,
  /** `run --emulator` polls faster so that its demo finishes in a few seconds. */
  emulatorPollIntervalSeconds: 1,
  outputPath: 'scratchpad/background_mode_gpt52_test_report.md',
  reasoningEffort: 'high',
  verbosity: 'high',
  /** Per-request bound for run, poll and cancel. */
  timeoutSeconds: 60,
  /** Retries per call after a transient failure (network error, 408, 409, 429, 5xx). */
  maxRetries: 5,
  /** Larger than any Response the API sends; a cap so a runaway answer cannot exhaust memory. */
  maxResponseBytes: 64 * 1024 * 1024,
});

/** The developer instruction, sent as a `developer` message. */
export const DEFAULT_INSTRUCTIONS = [
  'You are an expert in operations research and combinatorial optimisation.',
  'Formulate the problem precisely, reason step by step, and check every constraint before answering.',
  'Give the final schedule as a table, state its objective value, and explain briefly why no better schedule exists.',
].join(' ');

/** The user prompt: a small scheduling problem that needs real reasoning, so background mode earns its keep. */
export const DEFAULT_PROMPT = [
  'A workshop has three machines, M1, M2 and M3, and five jobs. Every job visits the machines in its own order, and each machine handles one job at a time, without pre-emption:',
  '',
  '- J1: M1 (3 h), then M2 (2 h), then M3 (2 h)',
  '- J2: M2 (2 h), then M1 (4 h), then M3 (1 h)',
  '- J3: M3 (4 h), then M2 (3 h)',
  '- J4: M1 (2 h), then M3 (3 h), then M2 (1 h)',
  '- J5: M2 (3 h), then M3 (2 h), then M1 (2 h)',
  '',
  'Find a schedule that minimises the makespan (the time at which the last job finishes).',
  'Give the start and end time of every operation, the makespan, and a lower bound that shows how far from optimal your schedule can be.',
].join('\n');

/** The values the API accepts for `reasoning.effort` and `text.verbosity`. */
export const REASONING_EFFORTS: readonly string[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'];
export const VERBOSITIES: readonly string[] = ['low', 'medium', 'high'];
