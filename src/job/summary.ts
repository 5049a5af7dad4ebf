import { extractOutputText, summarizeUsage, type ResponseObject } from '../api/response.js';
import { isUnconfirmed, type ControlMatch } from '../egress/controls.js';
import type { ExitCode } from '../exit-codes.js';
import { elapsedSeconds, type Session } from './session.js';
import { terminalReasonLine } from './terminal-reason.js';

/**
 * The --json object of run and poll: what CI needs to decide and to find the report. Every key
 * is always present (null when unknown), so a consumer never has to test for one.
 */
export function runSummary(
  config: { model?: string | undefined },
  session: Session,
  response: ResponseObject | undefined,
  polls: number,
  exitCode: ExitCode,
  /** How a run that did not reach a terminal status ended: its one error line, the commands that follow or cancel the response (when it may still run), the egress control that refused the way. */
  ending: { readonly error?: string; readonly resume?: { readonly poll: string; readonly cancel: string } | undefined; readonly control?: ControlMatch | undefined } = {},
) {
  const { error = null, resume, control } = ending;
  return {
    id: response?.id ?? session.progress.responseId ?? null,
    status: response?.status ?? null,
    model: response?.model ?? config.model ?? null,
    base_url: session.baseUrl,
    report: session.report.path,
    polls,
    elapsed_seconds: Number(elapsedSeconds(session).toFixed(3)),
    usage: summarizeUsage(response?.usage) ?? null,
    ...outputTextFields(response),
    exit_code: exitCode,
    // A failed or incomplete response's own reason, when nothing else ended the run first.
    error: error ?? terminalReasonLine(response),
    // A create that may have started a response whose id is not known: the key to look it up by.
    create_may_exist: session.progress.createMayExist === undefined ? null : { idempotency_key: session.progress.createMayExist },
    evidence: session.evidence.summary(),
    resume_command: resume?.poll ?? null,
    cancel_command: resume?.cancel ?? null,
    /** The egress control that refused the way, with its stable cause code (src/egress/controls.ts). */
    blocked_by: control && !isUnconfirmed(control) ? { cause: control.cause, control: control.control, fix: control.fix } : null,
    /** A control that fits what the run saw without being singled out by it: a possible cause, with what was seen and what else looks the same. */
    possibly_blocked_by: control && isUnconfirmed(control) ? { cause: control.cause, control: control.control, fix: control.fix, observed: control.observed, alternatives: control.alternatives } : null,
    // Stream mode only (--stream): its timing and what it says about the path.
    ...(session.progress.stream ? { stream: session.progress.stream } : {}),
  };
}

/** The answer in --json stops here (characters); the report always holds all of it. */
export const OUTPUT_TEXT_CAP = 16_384;

/** `output_text` (null when there is none), cut at the cap, with `output_text_truncated` saying whether it was. */
function outputTextFields(response: ResponseObject | undefined): { output_text: string | null; output_text_truncated: boolean } {
  const text = response ? extractOutputText(response) : undefined;
  if (text === undefined) return { output_text: null, output_text_truncated: false };
  if (text.length <= OUTPUT_TEXT_CAP) return { output_text: text, output_text_truncated: false };
  // Never split a surrogate pair: the cut text stays valid Unicode.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(OUTPUT_TEXT_CAP - 1)) ? OUTPUT_TEXT_CAP - 1 : OUTPUT_TEXT_CAP;
  return { output_text: text.slice(0, end), output_text_truncated: true };
}
