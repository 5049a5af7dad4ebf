/** The settings that shape the create request. */
interface CreateSettings {
  readonly model: string;
  readonly instructions: string;
  readonly prompt: string;
  readonly reasoningEffort: string;
  readonly verbosity: string;
}

/**
 * The body of POST /responses, exactly as the seed sent it: a developer message, then the
 * user message, text output at the chosen verbosity, reasoning effort without a summary,
 * and `background: true` (store defaults to true, which background mode requires).
 */
export function buildCreateBody(s: CreateSettings) {
  return {
    model: s.model,
    input: [
      { role: 'developer', content: [{ type: 'input_text', text: s.instructions }] },
      { role: 'user', content: [{ type: 'input_text', text: s.prompt }] },
    ],
    text: { format: { type: 'text' }, verbosity: s.verbosity },
    reasoning: { effort: s.reasoningEffort, summary: null },
    background: true,
  };
}
