/**
 * The benchmark's yardstick: bgprobe's flow written with the official `openai` SDK, as a user
 * would write it. Same create body, same fixed poll schedule, progress lines on stderr, a
 * Markdown report with the output text and the payload, the same two stdout lines. It does
 * less than bgprobe (no per-event report rewrite, no request table, no redaction).
 * Settings come from the environment: OPENAI_BASE_URL, OPENAI_API_KEY, POLL_INTERVAL, OUTPUT.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { DEFAULT_INSTRUCTIONS, DEFAULT_PROMPT, DEFAULTS } from '../src/config/defaults.js';

const intervalMs = Number(process.env['POLL_INTERVAL'] ?? '0.1') * 1000;
const output = process.env['OUTPUT'] ?? 'sdk-report.md';
const log = (message: string) => process.stderr.write(`${new Date().toISOString()} INFO  ${message}\n`);

const client = new OpenAI({ maxRetries: 0, timeout: 60_000 });
log('Submitting the background response');
let response = await client.responses.create({
  model: DEFAULTS.model,
  input: [
    { role: 'developer', content: [{ type: 'input_text', text: DEFAULT_INSTRUCTIONS }] },
    { role: 'user', content: [{ type: 'input_text', text: DEFAULT_PROMPT }] },
  ],
  text: { format: { type: 'text' }, verbosity: 'high' },
  reasoning: { effort: 'high', summary: null },
  background: true,
});
log(`Created response ${response.id}: status ${response.status}`);
const start = performance.now();
let polls = 0;
while (response.status === 'queued' || response.status === 'in_progress') {
  polls += 1;
  const wait = start + polls * intervalMs - performance.now();
  if (wait > 0) await sleep(wait);
  response = await client.responses.retrieve(response.id);
  log(`Poll ${polls}: status ${response.status}`);
}
const fence = '`'.repeat(8);
writeFileSync(
  output,
  `# SDK Background Mode Report\n\n## Final Status\n\n${response.status} after ${polls} polls\n\n` +
    `## Final Model Output\n\n${fence}text\n${response.output_text}\n${fence}\n\n` +
    `## Final Response Payload\n\n${fence}json\n${JSON.stringify(response, null, 2)}\n${fence}\n`,
);
process.stdout.write(`Report written to: ${output}\nFinal status: ${response.status}\n`);
