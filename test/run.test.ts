import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { emulatorFor, runCli, sections, tempDir, TEST_KEY } from './helpers.js';

const REPORT_SECTIONS = [
  'Run Configuration',
  'Prompt Used',
  'Event Log',
  'Outbound Requests',
  'Final Status',
  'Final Model Output',
  'Final Response Payload',
];

test('run polls a background response to completed and writes the whole report', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 150, inProgressMs: 300 });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'report.md', '--prompt', 'What is 2+2?'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 0, result.stderr);
  const reportPath = join(dir, 'report.md');
  assert.deepEqual(result.stdout.trim().split('\n').slice(-2), [`Report written to: ${reportPath}`, 'Final status: completed']);

  const report = readFileSync(reportPath, 'utf8');
  assert.match(report, /^# .+ Report$/m);
  assert.deepEqual(sections(report), REPORT_SECTIONS);

  const creates = emulator.requests.filter((r) => r.method === 'POST');
  const polls = emulator.requests.filter((r) => r.method === 'GET');
  assert.equal(creates.length, 1);
  const body = JSON.parse(creates[0]!.body);
  assert.equal(body.model, 'gpt-5.2');
  assert.equal(body.background, true);
  assert.deepEqual(body.text, { format: { type: 'text' }, verbosity: 'high' });
  assert.deepEqual(body.reasoning, { effort: 'high', summary: null });
  assert.deepEqual(body.input.map((m: { role: string }) => m.role), ['developer', 'user']);
  assert.deepEqual(body.input[1].content, [{ type: 'input_text', text: 'What is 2+2?' }]);
  assert.equal(creates[0]!.headers['authorization'], `Bearer ${TEST_KEY}`);
  assert.match(String(creates[0]!.headers['user-agent']), /^bgprobe\/\d+\.\d+\.\d+$/);

  // Polling stops at the first poll that sees completed: every earlier poll saw a pending status.
  // (How many polls that takes depends on the machine's load, so the count itself is not fixed.)
  assert.ok(polls.length >= 1);
  const pollEvents = [...report.matchAll(/Poll (\d+): status (\w+)/g)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(pollEvents.map(([n]) => n), polls.map((_, i) => i + 1));
  assert.deepEqual(pollEvents.map(([, status]) => status === 'completed'), polls.map((_, i) => i === polls.length - 1));
  assert.match(report, new RegExp(`\\| Polls \\| ${polls.length} \\|`));
  const requestRows = report.split('## Outbound Requests')[1]!.split('## Final Status')[0]!.match(/^\| 20\d\d-/gm) ?? [];
  assert.equal(requestRows.length, 1 + polls.length, 'one row per HTTP request');
  assert.match(report, /\| Status \| completed \|/);
  assert.match(report, /\| Reasoning tokens \| 320 \|/);
  assert.match(report, /You asked: "What is 2\+2\?"/);
  assert.ok(!report.includes(TEST_KEY) && !result.stderr.includes(TEST_KEY) && !result.stdout.includes(TEST_KEY));
});
