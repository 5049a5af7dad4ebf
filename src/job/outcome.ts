import { extractOutputText, isPending, KNOWN_TERMINAL_STATUSES, summarizeUsage, type ResponseObject } from '../api/response.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { ReportEnding } from '../report/report.js';
import { oneLine, shellWord } from '../text.js';
import { errorLine } from '../errors.js';
import { CreateUncertainError, followUnknownId } from './submit.js';
import { apiSaysIdUnknown } from './unknown-response.js';

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

/** The exact commands that follow or cancel a response, shell-quoted: `poll` and `cancel`. */
interface ResumeCommands {
  readonly poll: string;
  readonly cancel: string;
}

export function resumeCommands(id: string, route: ResumeRoute): ResumeCommands {
  const tail = route.args.map(shellWord).join(' ');
  const command = (verb: string) => `bgprobe ${verb} ${shellWord(id)}${tail ? ` ${tail}` : ''}`;
  return { poll: command('poll'), cancel: command('cancel') };
}

/**
 * What an ending that came before a terminal status can say about the response: the one
 * decision whether it can still be followed or cancelled, which stderr, the report and --json
 * all read (`resumeAfter`).
 */
export type Resume =
  /** No response id: none was created, or (`createMayExist`: the create's Idempotency-Key) one may have been, its id unknown. */
  | { readonly kind: 'none'; readonly createMayExist: string | undefined }
  /** The API itself answered 404 naming the id (wrong id, another project, expired): nothing to resume. */
  | { readonly kind: 'unknown'; readonly id: string }
  /** A terminal status was seen: nothing runs any more; `poll` shows it again, when a command can reach it. */
  | { readonly kind: 'ended'; readonly id: string; readonly status: string; readonly poll: string | undefined }
  /** It lived in a server that stopped with this run (the built-in emulator): no command can follow it. */
  | { readonly kind: 'gone'; readonly id: string; readonly where: string }
  /**
   * It may still run: the commands to follow or cancel it. `seen`: a pending status was seen (not only the id);
   * `cancelMayHaveTaken`: a cancel failed since in a way that may have let it take effect, and no later look came, so that status may be out of date.
   */
  | { readonly kind: 'running'; readonly id: string; readonly seen: boolean; readonly commands: ResumeCommands; readonly maskedProxyPassword: boolean; readonly cancelMayHaveTaken?: boolean };

/** What the run knows of its response when it ends (the session's RunProgress). */
interface KnownOfResponse {
  readonly responseId: string | undefined;
  readonly lastSeen: ResponseObject | undefined;
  readonly createMayExist?: string | undefined;
  /** A cancel failed in a way that may have let it take effect, and no later look came: the status last seen may be out of date. */
  readonly cancelMayHaveTaken?: boolean | undefined;
}

/**
 * The one rule for whether a response can be resumed once the run ends without a terminal
 * status: from the id, the last status seen, what ended the run (`error`: the failure, or the
 * stop) and the route the commands would take.
 */
export function resumeAfter(known: KnownOfResponse, error: unknown, route: ResumeRoute): Resume {
  const id = known.responseId;
  if (id === undefined) return { kind: 'none', createMayExist: known.createMayExist };
  // The API's own 404 that names this id (poll's rule too). Any other 404, even in the API's
  // envelope, says nothing about the response: it may still run, so the commands are kept.
  if (apiSaysIdUnknown(error, id)) return { kind: 'unknown', id };
  const status = known.lastSeen?.status;
  if (status !== undefined && !isPending(status)) return { kind: 'ended', id, status, poll: route.endsWithRun === undefined ? resumeCommands(id, route).poll : undefined };
  if (route.endsWithRun !== undefined) return { kind: 'gone', id, where: route.endsWithRun };
  return { kind: 'running', id, seen: status !== undefined, commands: resumeCommands(id, route), maskedProxyPassword: route.maskedProxyPassword, cancelMayHaveTaken: known.cancelMayHaveTaken === true };
}

/** The commands --json and the report's Final Status carry: only while the response may still run. */
export function commandsOf(resume: Resume): ResumeCommands | undefined {
  return resume.kind === 'running' ? resume.commands : undefined;
}

/**
 * What the ending says of the response, appended to its one stderr line and kept in the report:
 * the same words on every ending, except that a stop after a pending status was seen says the
 * response "is" still running (it was when bgprobe stopped following it), where after a
 * failure, or before any status was seen, it "may" be; and that a failure with no id says
 * nothing more (its error line, `failureLine`, already says whether a create may have started one).
 */
function resumeClause(resume: Resume, ending: 'stopped' | 'failed'): string {
  switch (resume.kind) {
    case 'none':
      if (ending === 'failed') return '';
      return resume.createMayExist === undefined
        ? 'no response was created'
        : `no response id is known, but a response may have been created (the create carried Idempotency-Key ${resume.createMayExist})`;
    case 'unknown':
      return '';
    case 'ended':
      return `response ${resume.id} ended with status ${resume.status}${resume.poll === undefined ? '' : `: see it again with "${resume.poll}"`}`;
    case 'gone':
      return `response ${resume.id} ended with ${resume.where}, which stopped with this run: nothing to resume or cancel`;
    case 'running': {
      const { poll, cancel } = resume.commands;
      const proxyNote = resume.maskedProxyPassword ? ' (the proxy password is shown as ***: type it in its place)' : '';
      const state = ending === 'stopped' && resume.seen && resume.cancelMayHaveTaken !== true ? 'is still running' : 'may still be running';
      return `response ${resume.id} ${state}: resume with "${poll}", cancel with "${cancel}"${proxyNote}`;
    }
  }
}

/** An ending's one stderr line: its own words, then what it says of the response (`resumeClause`), when it says anything. */
export function withResumeClause(line: string, resume: Resume, ending: 'stopped' | 'failed'): string {
  const clause = resumeClause(resume, ending);
  return clause === '' ? line : `${line}; ${clause}`;
}

/** The report's own event for an ending that leaves a response running (or gone with the run): the clause as a sentence. */
export function resumeEvent(resume: Resume, ending: 'stopped' | 'failed'): string | undefined {
  if (resume.kind !== 'running' && resume.kind !== 'gone') return undefined;
  const clause = resumeClause(resume, ending);
  return `${clause.charAt(0).toUpperCase()}${clause.slice(1)}`;
}

/** How a stopped run's Final Status row ends: what became of the response. */
export function stoppedState(resume: Resume): string {
  switch (resume.kind) {
    case 'none':
      return resume.createMayExist === undefined ? ': no response was created' : ': a response may have been created; its id is not known';
    case 'running':
      if (resume.cancelMayHaveTaken === true) return ': the response may still be running (the cancel failed after it was sent: it may have taken effect)';
      return resume.seen ? ': the response is still running' : ': the response may still be running (no status of it was seen)';
    case 'gone':
      return `: the response ended with ${resume.where}`;
    case 'ended':
    case 'unknown':
      return '';
  }
}

/**
 * What to do about a response that may exist with its id unknown, as this run would type it;
 * nothing to follow where it would have lived in a server that stopped with the run (--emulator).
 */
export function unknownIdFollowUp(route: ResumeRoute): string {
  if (route.endsWithRun !== undefined) return `It would have lived in ${route.endsWithRun}, which stopped with this run: there is nothing to follow`;
  return followUnknownId(resumeCommands('RESPONSE_ID', route).poll);
}

/** The one line of a failed run: the error's words, a create that may exist with the follow-up command as this run types it. */
export function failureLine(error: unknown, route: ResumeRoute): string {
  if (error instanceof CreateUncertainError) return oneLine(error.withFollowUp(unknownIdFollowUp(route)));
  return errorLine(error);
}

/** 0 for completed, 3 for every other terminal status, known or not. */
export function exitCodeForStatus(status: string): ExitCode {
  return status === 'completed' ? EXIT.ok : EXIT.notCompleted;
}

interface RunFacts {
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
  /** Whether it can be resumed (`resumeAfter`): the Resume and Cancel rows, only while it may still run. */
  resume: Resume,
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
  if (resume.kind === 'running') {
    rows.push(['Resume', resume.commands.poll], ['Cancel', resume.commands.cancel]);
    if (resume.maskedProxyPassword) rows.push(['Proxy password', 'shown as *** in the commands above: type it in its place']);
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
