import { extractOutputText, summarizeUsage, type ResponseObject } from '../api/response.js';
import { formatDuration } from '../console/format.js';
import { oneLine } from '../text.js';
import { elapsedSeconds, type Session } from './session.js';

/** How much of the answer's first line the closing event shows; the report has all of it. */
const ANSWER_PREVIEW_CHARS = 160;

/**
 * The closing events of a run that reached a terminal status, so stderr tells how long it
 * took, how many polls and tokens it cost, and how the answer begins, without opening the
 * report (stdout keeps its two lines). Events, so --quiet silences them and the report keeps them.
 */
export function noteRunTotals(session: Session, response: ResponseObject, polls: number): void {
  session.journal.info(runTotalsLine(elapsedSeconds(session), polls, response));
  const preview = answerPreview(response);
  if (preview !== undefined) session.journal.info(preview);
}

/** `Took 3.7s and 3 polls; tokens 642 (input 223, output 419 of which reasoning 320)` */
function runTotalsLine(seconds: number, polls: number, response: ResponseObject): string {
  const usage = summarizeUsage(response.usage);
  const count = (n: number | undefined) => (n === undefined ? '?' : String(n));
  let tokens = 'tokens not reported';
  if (usage) {
    const reasoning = usage.reasoning === undefined ? '' : ` of which reasoning ${usage.reasoning}`;
    tokens = `tokens ${count(usage.total)} (input ${count(usage.input)}, output ${count(usage.output)}${reasoning})`;
  }
  return `Took ${formatDuration(seconds)} and ${polls === 1 ? '1 poll' : `${polls} polls`}; ${tokens}`;
}

/** `Answer begins: "…" (12 lines; all of it is in the report)`, or undefined when there is no text. */
function answerPreview(response: ResponseObject): string | undefined {
  const text = extractOutputText(response);
  if (text === undefined || text.trim() === '') return undefined;
  const lines = text.trim().split(/\r?\n/);
  const first = oneLine(lines.find((line) => line.trim() !== '') ?? '');
  const shown = first.length > ANSWER_PREVIEW_CHARS ? `${first.slice(0, ANSWER_PREVIEW_CHARS)}...` : first;
  const whole = lines.length === 1 && shown === first;
  return `Answer begins: ${JSON.stringify(shown)} (${lines.length === 1 ? '1 line' : `${lines.length} lines`}${whole ? '' : '; all of it is in the report'})`;
}
