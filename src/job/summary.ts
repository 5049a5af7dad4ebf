import { summarizeUsage, type ResponseObject } from '../api/response.js';
import type { ExitCode } from '../exit-codes.js';
import { elapsedSeconds, type Session } from './session.js';

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
  error: string | null = null,
) {
  return {
    id: response?.id ?? session.progress.responseId ?? null,
    status: response?.status ?? null,
    model: response?.model ?? config.model ?? null,
    report: session.report.path,
    polls,
    elapsed_seconds: Number(elapsedSeconds(session).toFixed(3)),
    usage: summarizeUsage(response?.usage) ?? null,
    exit_code: exitCode,
    error,
    // Stream mode only (--stream): its timing and what it says about the path.
    ...(session.progress.stream ? { stream: session.progress.stream } : {}),
  };
}
