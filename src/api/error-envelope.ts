import type { ApiErrorBody } from '../errors.js';
import { isRecord } from './response.js';

/**
 * The OpenAI error envelope `{ error: { message, type, param, code } }`, when the body is one:
 * the one reading of it, for the error a call raises (answer.ts) and for who answered and in
 * what words (egress/answer-origin.ts).
 */
export function parseEnvelope(text: string): ApiErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || !isRecord(parsed['error'])) return undefined;
  const e = parsed['error'];
  if (typeof e['message'] !== 'string') return undefined;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return { message: e['message'], type: str(e['type']), param: str(e['param']), code: str(e['code']) };
}
