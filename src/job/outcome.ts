import { extractOutputText, isPending, KNOWN_TERMINAL_STATUSES, summarizeUsage, type ResponseObject } from '../api/response.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { isUnknownResponse } from '../api/answer.js';
import type { ReportEnding } from '../report/report.js';
import { oneLine, shellWord } from '../text.js';
import { errorLine } from '../errors.js';
import { CreateUncertainError } from './submit.js';

/**
 * How to reach the API again the same way: the options a resume or cancel command must carry
 * (base URL, proxy, trust, .env file), as words of a command line. Built once per run
 * (src/commands/shared.ts) from what the run itself used.
 */
export interface ResumeRoute {
  readonly args: readonly string[];
  /** The --proxy URL among the args has its password replaced by `***`: the user types it in. */
  readonly maskedProxyPassword: boolean;
  /** Where the response lived when that ends with this run (the built-in emulator): then no command can follow it. */
  readonly endsWithRun?: string | undefined;
}

/** A run whose options need nothing beyond the defaults. */
export const DEFAULT_ROUTE: ResumeRoute = Object.freeze({ args: [], maskedProxyPassword: false });

/** The exact commands that follow or cancel a response, shell-quoted: `poll` and `cancel`. */
export interface ResumeCommands {
  readonly poll: string;
  readonly cancel: string;
}

export function resumeCommands(id: string, route: ResumeRoute): ResumeCommands {
  const tail = route.args.map(shellWord).join(' ');
  const command = (verb: string) => `bgprobe ${verb} ${shellWord(id)}${tail ? ` ${tail}` : ''}`;
  return { poll: command('poll'), cancel: command('cancel') };
}

/**
 * How to follow or stop a response that may still run: the words every ending uses, on
 * stderr, in the report and after a second Ctrl-C.
 */
export function resumeHint(id: string, route: ResumeRoute): string {
  if (route.endsWithRun !== undefined) return `nothing to resume or cancel: it lived in ${route.endsWithRun}, which stopped with this run`;
  const { poll, cancel } = resumeCommands(id, route);
  const proxyNote = route.maskedProxyPassword ? ' (the proxy password is shown as ***: type it in its place)' : '';
  return `resume with "${poll}", cancel with "${cancel}"${proxyNote}`;
}

/** `response <id> may still be running: resume with ...`: the clause every ending that leaves a response running uses. */
export function mayStillRun(id: string, route: ResumeRoute, noun: 'response' | 'Response' = 'response'): string {
  if (route.endsWithRun !== undefined) return `${noun} ${id} ended with ${route.endsWithRun}, which stopped with this run: nothing to resume or cancel`;
  return `${noun} ${id} may still be running: ${resumeHint(id, route)}`;
}

/** The one line of a failed run: the error's words, a create that may exist with the follow-up command as this run types it. */
export function failureLine(error: unknown, route: ResumeRoute): string {
  if (error instanceof CreateUncertainError) return oneLine(error.withFollowUp(resumeCommands('RESPONSE_ID', route).poll));
  return errorLine(error);
}

/** The API's own 404 for the id (a wrong id, another project, or expired; answer.ts's rule): nothing to resume. A 404 from anything else says nothing about the response. */
export function leavesNothingToResume(error: unknown): boolean {
  return isUnknownResponse(error);
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
    // The status is the server's text: one line, no escape codes, whatever it holds.
    noOutputNote: `The response ended with status ${oneLine(status)} and carries no output text.`,
    payload: response,
  };
}

/** The closing sections when the run ended without a terminal status (an error, an interrupt, a deadline). */
export function unfinishedEnding(
  what: string,
  facts: RunFacts,
  responseId: string | undefined,
  lastSeen: ResponseObject | undefined,
  /** How to resume it; undefined when there is nothing to resume (the API does not know the id). */
  route: ResumeRoute | undefined,
  /** The Idempotency-Key of a create that may have started a response whose id is not known. */
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
  if (responseId && route && route.endsWithRun === undefined && (lastSeen?.status === undefined || isPending(lastSeen.status))) {
    const commands = resumeCommands(responseId, route);
    rows.push(['Resume', commands.poll], ['Cancel', commands.cancel]);
    if (route.maskedProxyPassword) rows.push(['Proxy password', 'shown as *** in the commands above: type it in its place']);
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
