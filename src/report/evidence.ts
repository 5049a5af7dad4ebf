import type { Evidence } from '../job/evidence.js';
import type { ReportEnding } from './report.js';

/**
 * The report's Final Status with what the answers showed about who gave them (src/job/evidence.ts),
 * so a report of a run against a stub says so in the table a reader looks at first.
 */
export function withEvidence(ending: ReportEnding, evidence: Evidence): ReportEnding {
  const rows: [string, string][] = [["Answers with the OpenAI API's marks", `${evidence.with_api_marks} of ${evidence.answers}`]];
  rows.push(['openai-version seen', evidence.openai_version ?? 'none']);
  const c = evidence.create;
  if (c !== null) {
    const model = c.model_asked === null ? (c.model ?? '(none)') : `${c.model ?? '(none)'} (asked for ${c.model_asked})`;
    rows.push(['Create answer', `background: ${c.background ?? 'absent'}, status ${c.status ?? '(none)'}, model ${model}`]);
  }
  const verdict = evidence.warning ?? (c === null ? "the answers carried the OpenAI API's marks" : "the answers carried the OpenAI API's marks, and the create came back as a background response");
  rows.push(['Evidence', verdict]);
  return { ...ending, status: [...ending.status, ...rows] };
}
