/** The parts of the API's `Response` object bgprobe reads; everything else is kept as raw JSON. */
export interface ResponseObject {
  id: string;
  object?: string;
  status?: string;
  model?: string;
  created_at?: number;
  completed_at?: number | null;
  error?: { code?: string | null; message?: string } | null;
  incomplete_details?: { reason?: string } | null;
  output?: unknown[];
  output_text?: string;
  usage?: Usage | null;
  [key: string]: unknown;
}

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  output_tokens_details?: { reasoning_tokens?: number };
  input_tokens_details?: { cached_tokens?: number };
}

/** The two statuses that mean "keep polling"; every other one, known or not, is terminal. */
const PENDING_STATUSES: ReadonlySet<string> = new Set(['queued', 'in_progress']);

/** The terminal statuses the API documents; anything else is terminal too, but unknown. */
export const KNOWN_TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'incomplete']);

export function isPending(status: string): boolean {
  return PENDING_STATUSES.has(status);
}

/**
 * The model's text: `output_text` when the body has it (only SDKs add it, but proxies may),
 * else the `output_text` blocks of the message items, joined; undefined when there is none.
 */
export function extractOutputText(response: ResponseObject): string | undefined {
  if (typeof response.output_text === 'string' && response.output_text.length > 0) return response.output_text;
  const parts: string[] = [];
  for (const item of response.output ?? []) {
    if (!isRecord(item) || item['type'] !== 'message' || !Array.isArray(item['content'])) continue;
    for (const block of item['content']) {
      if (isRecord(block) && block['type'] === 'output_text' && typeof block['text'] === 'string') parts.push(block['text']);
    }
  }
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

export interface UsageSummary {
  input: number | undefined;
  output: number | undefined;
  reasoning: number | undefined;
  total: number | undefined;
}

export function summarizeUsage(usage: Usage | null | undefined): UsageSummary | undefined {
  if (!usage) return undefined;
  return {
    input: usage.input_tokens,
    output: usage.output_tokens,
    reasoning: usage.output_tokens_details?.reasoning_tokens,
    total: usage.total_tokens,
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
