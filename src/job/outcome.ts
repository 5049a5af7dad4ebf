import { extractOutputText, isPending, KNOWN_TERMINAL_STATUSES, summarizeUsage, type ResponseObject } from '../api/response.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { ReportEnding } from '../report/report.js';

/** How to follow or stop a response that may still run: the words every ending uses, on stderr and in the report. */
export function resumeCommands(id: string): string {
  return `resume with "bgprobe poll ${id}", cancel with "bgprobe cancel ${id}"`;
}

/** 0 for completed, 3 for every other terminal status, known or not. */
export function exitCodeForStatus(status: string): ExitCode {
  return status === 'completed' ? EXIT.ok : EXIT.notCompleted;
}

export interface RunFacts {
  readonly elapsedSeconds: number;
  readonly polls: number;
  readonly finishedAt: Date;
}

/** The closing sections of the report for a response that reached a terminal status. */
export function terminalEnding(response: ResponseObject, facts: RunFacts): ReportEnding {
  const status = response.status ?? '(none)';
  const usage = summarizeUsage(response.usage);
  const rows: [string, string][] = [
    ['Response id', response.id],
    ['Status', KNOWN_TERMINAL_STATUSES.has(status) ? status : `${status} (not a status the API documents; treated as terminal)`],
    ['Finished at', facts.finishedAt.toISOString()],
    ['Elapsed seconds', facts.elapsedSeconds.toFixed(1)],
    ['Polls', String(facts.polls)],
    ['Model', response.model ?? '-'],
  ];
  if (response.error) rows.push(['Error', `${response.error.code ?? 'error'}: ${response.error.message ?? ''}`]);
  if (response.incomplete_details?.reason) rows.push(['Incomplete reason', response.incomplete_details.reason]);
  return {
    status: rows,
    summary: { status, elapsedSeconds: facts.elapsedSeconds, polls: facts.polls, usage },
    outputText: extractOutputText(response),
    noOutputNote: `The response ended with status ${status} and carries no output text.`,
    payload: response,
  };
}

/** The closing sections when the run ended without a terminal status (an error, an interrupt, a deadline). */
export function unfinishedEnding(
  what: string,
  facts: RunFacts,
  responseId: string | undefined,
  lastSeen: ResponseObject | undefined,
  createMayExist?: string | undefined,
): ReportEnding {
  const noId = createMayExist === undefined
    ? '(none: no response was created)'
    : `(not known: a response may have been created; the create carried Idempotency-Key ${createMayExist})`;
  const rows: [string, string][] = [
    ['Response id', responseId ?? noId],
    ['Status', lastSeen?.status ? `${what}; last seen ${lastSeen.status}` : what],
    ['Finished at', facts.finishedAt.toISOString()],
    ['Elapsed seconds', facts.elapsedSeconds.toFixed(1)],
    ['Polls', String(facts.polls)],
  ];
  // Resume and cancel only make sense while the response may still run (not after a cancel took).
  if (responseId && (lastSeen?.status === undefined || isPending(lastSeen.status))) {
    rows.push(['Resume', `bgprobe poll ${responseId}`], ['Cancel', `bgprobe cancel ${responseId}`]);
  }
  return {
    status: rows,
    summary: {
      status: lastSeen?.status ? `${what}; last seen ${lastSeen.status}` : what,
      elapsedSeconds: facts.elapsedSeconds,
      polls: facts.polls,
      usage: summarizeUsage(lastSeen?.usage),
    },
    outputText: undefined,
    noOutputNote: 'The run ended before the response reached a terminal status.',
    payload: lastSeen,
  };
}
