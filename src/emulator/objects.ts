import { randomBytes } from 'node:crypto';

/**
 * Builders for the objects the real API sends, shaped after its published examples:
 * the Response object (with the fields real answers carry beyond the spec, such as `store`)
 * and the `{ error }` envelope.
 */

export interface StoredResponse {
  readonly id: string;
  readonly createdAt: number;
  readonly model: string;
  readonly background: boolean;
  readonly body: Record<string, unknown>;
  /** Text the model "writes" when the response completes. */
  readonly outputText: string;
  readonly inputTokens: number;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

export function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

export function errorEnvelope(message: string, type: string, param: string | null = null, code: string | null = null) {
  return { error: { message, type, param, code } };
}

/** A Response object of the given status, with output and usage where the status has them. */
export function responseObject(stored: StoredResponse, status: string, nowSeconds: number): Record<string, unknown> {
  const body = stored.body;
  const reasoning = isObject(body['reasoning']) ? body['reasoning'] : {};
  const text = isObject(body['text']) ? body['text'] : {};
  const finished = status === 'completed' || status === 'incomplete';
  return {
    id: stored.id,
    object: 'response',
    created_at: stored.createdAt,
    status,
    background: stored.background,
    completed_at: status === 'completed' ? nowSeconds : null,
    error: status === 'failed' ? { code: 'server_error', message: 'The model failed to generate a response.' } : null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: null,
    max_output_tokens: body['max_output_tokens'] ?? null,
    max_tool_calls: null,
    model: stored.model,
    output: finished ? outputItems(stored, status) : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    prompt_cache_key: null,
    reasoning: { effort: reasoning['effort'] ?? 'medium', summary: reasoning['summary'] ?? null },
    safety_identifier: null,
    service_tier: finished ? 'default' : 'auto',
    store: body['store'] ?? true,
    temperature: 1.0,
    text: { format: { type: 'text' }, verbosity: text['verbosity'] ?? 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_logprobs: 0,
    top_p: 1.0,
    truncation: 'disabled',
    usage: finished ? usage(stored) : null,
    user: null,
    metadata: isObject(body['metadata']) ? body['metadata'] : {},
  };
}

function outputItems(stored: StoredResponse, status: string): unknown[] {
  const suffix = stored.id.slice('resp_'.length);
  const text = status === 'incomplete' ? stored.outputText.slice(0, Math.ceil(stored.outputText.length / 2)) : stored.outputText;
  return [
    { id: `rs_${suffix}`, type: 'reasoning', summary: [] },
    {
      id: `msg_${suffix}`,
      type: 'message',
      status: status === 'incomplete' ? 'incomplete' : 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
    },
  ];
}

function usage(stored: StoredResponse) {
  const reasoningTokens = 320;
  const outputTokens = Math.ceil(stored.outputText.length / 4) + reasoningTokens;
  return {
    input_tokens: stored.inputTokens,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: stored.inputTokens + outputTokens,
  };
}

/** The answer the emulator gives when no fixed text was configured: it says what it is and echoes the question. */
export function defaultAnswer(body: Record<string, unknown>): string {
  const question = inputText(body).split('\n')[0]?.slice(0, 200) ?? '';
  return [
    'This answer comes from the bgprobe emulator, not from a model: it shows that the whole background flow works.',
    '',
    `You asked: "${question}"`,
    '',
    '| step | call |',
    '| --- | --- |',
    '| submit | POST /v1/responses |',
    '| poll | GET /v1/responses/{id} |',
  ].join('\n');
}

/** The text of the input (a string, or message items with input_text blocks). */
export function inputText(body: Record<string, unknown>): string {
  const input = body['input'];
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  const texts: string[] = [];
  for (const item of input) {
    if (!isObject(item)) continue;
    const content = item['content'];
    if (typeof content === 'string') texts.push(content);
    else if (Array.isArray(content)) {
      for (const block of content) if (isObject(block) && typeof block['text'] === 'string') texts.push(block['text']);
    }
  }
  // The user's words are the last message; show those first.
  return texts.reverse().join('\n');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
