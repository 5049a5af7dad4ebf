import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redactor } from '../src/redact.js';
import { mermaidTimeline } from '../src/report/lifecycle.js';
import { RunReport } from '../src/report/report.js';
import { emulatorFor, runCli, sections, tempDir, TEST_KEY } from './helpers.js';

const REPORT_SECTIONS = ['Run Configuration', 'Prompt Used', 'Event Log', 'Outbound Requests', 'Final Status', 'Final Model Output', 'Final Response Payload'];

/** The text between two markers of the report. */
function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  assert.ok(from >= 0, `missing ${start}`);
  const to = text.indexOf(end, from + start.length);
  assert.ok(to >= 0, `missing ${end} after ${start}`);
  return text.slice(from + start.length, to);
}

/** The body of the one ```mermaid block of a report. */
function mermaidBlocks(report: string): string[] {
  return [...report.matchAll(/^(`{3,})mermaid\n([\s\S]*?)^\1$/gm)].map((m) => m[2] as string);
}

interface TimelineEntry {
  readonly period: string;
  readonly event: string;
}

/**
 * Checks a Mermaid timeline against its grammar (mermaid-js timeline.jison): the `timeline`
 * keyword, an optional title, then `period : event` lines, where a period cannot hold `:` or
 * `#`, an event ends at `: `, and `#`/`%%` would start a comment.
 */
function parseTimeline(source: string): { title: string | undefined; entries: TimelineEntry[] } {
  const lines = source.split('\n').filter((line) => line.trim() !== '');
  assert.equal(lines[0], 'timeline', 'starts with the timeline keyword');
  let title: string | undefined;
  const entries: TimelineEntry[] = [];
  for (const line of lines.slice(1)) {
    const titled = /^\s+title ([^#;\n]+)$/.exec(line);
    if (titled && entries.length === 0 && title === undefined) {
      title = titled[1];
      continue;
    }
    const entry = /^\s+([^#:%\n]+?) : ((?:[^:#%\n]|:(?!\s))+)$/.exec(line);
    assert.ok(entry, `not a "period : event" line: ${JSON.stringify(line)}`);
    entries.push({ period: entry[1] as string, event: entry[2] as string });
  }
  return { title, entries };
}

test('the report opens with a summary, and Final Status holds a Mermaid timeline of the status changes and a usage table', async (t) => {
  // Counted in polls, not milliseconds: a loaded machine that polls late must not skip in_progress.
  const emulator = await emulatorFor(t, { pendingPolls: 2 });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.05', '--output', 'report.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(result.code, 0, result.stderr);
  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.deepEqual(sections(report), REPORT_SECTIONS, 'the design.md section order is kept');
  const polls = emulator.requests.filter((r) => r.method === 'GET').length;
  const payload = JSON.parse(between(report, '## Final Response Payload\n\n```json\n', '\n```'));
  const id = payload.id as string;

  const summary = between(report, 'Report\n\n', '## Run Configuration');
  assert.match(summary, /^\| Status \| Elapsed \| Polls \| Tokens \| Response id \|\n\| --- \| --- \| --- \| --- \| --- \|\n/);
  assert.match(summary, new RegExp(`^\\| completed \\| \\d+\\.\\d s \\| ${polls} \\| ${payload.usage.total_tokens} total \\| ${id} \\|$`, 'm'));

  const finalStatus = between(report, '## Final Status', '## Final Model Output');
  assert.deepEqual([...finalStatus.matchAll(/^### (.+)$/gm)].map((m) => m[1]), ['Timeline', 'Usage']);
  const blocks = mermaidBlocks(report);
  assert.equal(blocks.length, 1, 'one Mermaid block');
  assert.ok(finalStatus.includes(blocks[0]!), 'inside Final Status');
  const timeline = parseTimeline(blocks[0]!);
  assert.equal(timeline.title, `Lifecycle of ${id}`);
  assert.deepEqual(
    timeline.entries.map((e) => e.event.replace(/ \(.*\)$/, '')),
    ['queued', 'in_progress', 'completed'],
    'one entry per status change, in order',
  );
  assert.equal(timeline.entries[0]!.event, 'queued (first answer)');
  assert.equal(timeline.entries[2]!.event, `completed (poll ${polls})`);
  const seconds = timeline.entries.map((e) => Number(/^\+(\d+\.\d) s$/.exec(e.period)?.[1]));
  assert.ok(seconds.every((s, i) => Number.isFinite(s) && (i === 0 || s >= seconds[i - 1]!)), `periods rise: ${seconds}`);
  // The same changes with exact times, for readers without Mermaid.
  const rows = between(finalStatus, '| Time (UTC) | Elapsed (s) | Status | Seen by |', '### Usage').match(/^\| 20\d\d-\S+Z \| [\d.]+ \| \w+ \|/gm) ?? [];
  assert.equal(rows.length, 3);

  const usageTable = finalStatus.split('### Usage')[1]!;
  assert.match(usageTable, new RegExp(`\\| Input tokens \\| ${payload.usage.input_tokens} \\|`));
  assert.match(usageTable, new RegExp(`\\| Output tokens \\| ${payload.usage.output_tokens} \\|`));
  assert.match(usageTable, new RegExp(`\\| Reasoning tokens \\| ${payload.usage.output_tokens_details.reasoning_tokens} \\|`));
  assert.match(usageTable, new RegExp(`\\| Total tokens \\| ${payload.usage.total_tokens} \\|`));
});

test('a failed response ends its timeline on failed; a run that never got an answer says so instead of drawing one', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 30, inProgressMs: 60, finalStatus: 'failed' });
  const dir = tempDir(t);
  const failed = await runCli(['run', '--poll-interval', '0.05', '--output', 'failed.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(failed.code, 3);
  const failedReport = readFileSync(join(dir, 'failed.md'), 'utf8');
  const entries = parseTimeline(mermaidBlocks(failedReport)[0]!).entries;
  assert.match(entries.at(-1)!.event, /^failed \(poll \d+\)$/);
  assert.match(between(failedReport, 'Report\n\n', '## Run Configuration'), /^\| failed \| /m);

  const noKey = await runCli(['run', '--output', 'nokey.md'], { cwd: dir, env: { OPENAI_BASE_URL: emulator.baseUrl } });
  assert.equal(noKey.code, 1);
  const noKeyReport = readFileSync(join(dir, 'nokey.md'), 'utf8');
  assert.deepEqual(sections(noKeyReport), REPORT_SECTIONS);
  assert.equal(mermaidBlocks(noKeyReport).length, 0);
  assert.match(noKeyReport, /### Timeline\n\n_No status was seen/);
  assert.match(between(noKeyReport, 'Report\n\n', '## Run Configuration'), /^\| error: the run stopped \| \d+\.\d s \| 0 \| - \| - \|$/m);
});

test('while the run goes, the report is a live log: the id and every event appended as they come, no summary yet', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'live.md');
  const report = RunReport.open(path, { title: 'T Report', configuration: [['Command', 'run']], prompt: [] }, new Redactor());
  const head = readFileSync(path, 'utf8');
  assert.match(head, /^# T Report\n\n_The run is still going, or was stopped before it ended: this is its live log/);
  assert.deepEqual(sections(head), ['Run Configuration', 'Prompt Used', 'Event Log']);
  report.setResponseId('resp_live');
  report.addEvent({ time: new Date(0), level: 'INFO', message: 'Poll 3: status in_progress' });
  report.noteStatus({ time: new Date(), elapsedSeconds: 2.04, status: 'in_progress', polls: 3, seenBy: 'poll 3' });
  const live = readFileSync(path, 'utf8');
  assert.equal(live, `${head}- Response id: \`resp_live\`\n- 1970-01-01T00:00:00.000Z [INFO] Poll 3: status in_progress\n`, 'appended, nothing rewritten');
  report.close();
});

test('a status or id with Mermaid syntax in it cannot break the diagram', () => {
  const source = mermaidTimeline(
    [
      { time: new Date(0), elapsedSeconds: 0, status: 'queued', polls: 0, seenBy: 'first answer' },
      { time: new Date(1000), elapsedSeconds: 1, status: 'weird: state # %% x;y', polls: 1, seenBy: 'poll 1' },
      { time: new Date(2000), elapsedSeconds: 2, status: '', polls: 2, seenBy: 'poll 2' },
    ],
    'resp_1 # title: hack',
  );
  const timeline = parseTimeline(source);
  assert.equal(timeline.entries.length, 3);
  assert.doesNotMatch(timeline.title ?? '', /[#:;]/);
  assert.equal(timeline.entries[1]!.event, 'weird_ state _ __ x_y (poll 1)');
  assert.equal(timeline.entries[2]!.event, '_ (poll 2)');
});
