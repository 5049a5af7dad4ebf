import type { UsageSummary } from '../api/response.js';
import { codeBlock, table } from './markdown.js';

/** A status as seen at one moment of the run: by the create, a poll, or a cancel. */
export interface StatusNote {
  readonly time: Date;
  readonly elapsedSeconds: number;
  readonly status: string;
  /** Polls so far. */
  readonly polls: number;
  /** Which answer showed it: `first answer`, `poll 3`, `cancel`. */
  readonly seenBy: string;
}

/** How the timeline names the answer behind a poll state: the create's, or poll N's. */
export function seenByPoll(polls: number): string {
  return polls === 0 ? 'first answer' : `poll ${polls}`;
}

/** What the summary table at the top of the report shows. */
export interface SummaryFacts {
  readonly responseId: string | undefined;
  readonly status: string;
  readonly elapsedSeconds: number;
  readonly polls: number;
  readonly usage: UsageSummary | undefined;
}

/** The short table right under the title: what happened, at a glance. */
export function summaryTable(facts: SummaryFacts): string {
  const tokens = facts.usage?.total === undefined ? '-' : `${facts.usage.total} total`;
  return table(['Status', 'Elapsed', 'Polls', 'Tokens', 'Response id'], [[facts.status, `${facts.elapsedSeconds.toFixed(1)} s`, facts.polls, tokens, facts.responseId]]);
}

/** `### Usage`: the token counts of the final Response, one row each. */
export function usageTable(usage: UsageSummary | undefined): string {
  if (!usage) return '_The final Response carries no usage._\n';
  const count = (value: number | undefined) => (value === undefined ? '-' : String(value));
  return table(
    ['Tokens', 'Count'],
    [
      ['Input tokens', count(usage.input)],
      ['Output tokens', count(usage.output)],
      ['Reasoning tokens', count(usage.reasoning)],
      ['Total tokens', count(usage.total)],
    ],
  );
}

/** `### Timeline`: the status changes as a Mermaid timeline (GitHub renders it) and as a table with exact times. */
export function* timelineSection(changes: readonly StatusNote[], responseId: string | undefined): Generator<string> {
  if (changes.length === 0) {
    yield '_No status was seen: the run ended before the API answered with a Response._\n';
    return;
  }
  yield* codeBlock(mermaidTimeline(changes, responseId), 'mermaid');
  yield '\n';
  yield table(
    ['Time (UTC)', 'Elapsed (s)', 'Status', 'Seen by'],
    changes.map((c) => [c.time.toISOString(), c.elapsedSeconds.toFixed(1), c.status, c.seenBy]),
  );
}

/**
 * The Mermaid `timeline` source. Its grammar ends a time period at `:` or `#` and an event at
 * `: ` (mermaid-js timeline.jison), and `%%` starts a comment, so every text is reduced to
 * characters that cannot end or comment out anything.
 */
export function mermaidTimeline(changes: readonly StatusNote[], responseId: string | undefined): string {
  const lines = ['timeline', `    title Lifecycle of ${responseId === undefined ? 'the response' : mermaidText(responseId)}`];
  for (const change of changes) lines.push(`    +${change.elapsedSeconds.toFixed(1)} s : ${mermaidText(change.status)} (${mermaidText(change.seenBy)})`);
  return `${lines.join('\n')}\n`;
}

function mermaidText(text: string): string {
  return text.replace(/[^A-Za-z0-9_.\- ]/g, '_').trim() || '_';
}
