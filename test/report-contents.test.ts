import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderedAnswer } from '../src/report/rendered-answer.js';
import { emulatorFor, envFor, runMain, tempDir } from './helpers.js';

const REPORT_SECTIONS = ['Run Configuration', 'Prompt Used', 'Event Log', 'Outbound Requests', 'Final Status', 'Final Model Output', 'Final Response Payload'];

/** The text of one `## Section` of a report, up to the next. */
function section(report: string, name: string): string {
  const start = report.indexOf(`\n## ${name}\n`);
  assert.ok(start >= 0, `no ## ${name}`);
  const end = report.indexOf('\n## ', start + 1);
  return report.slice(start, end === -1 ? undefined : end);
}

/** The `## ` headings a Markdown reader sees: those outside fenced code blocks (CommonMark's fence rules). */
function renderedSections(markdown: string): string[] {
  const found: string[] = [];
  let fence: { char: string; length: number } | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      if (marker && marker[1]![0] === fence.char && marker[1]!.length >= fence.length && marker[2]!.trim() === '') fence = undefined;
    } else if (marker && !(marker[1]![0] === '`' && marker[2]!.includes('`'))) {
      fence = { char: marker[1]![0]!, length: marker[1]!.length };
    } else if (line.startsWith('## ')) {
      found.push(line.slice(3));
    }
  }
  assert.equal(fence, undefined, 'every fence is closed');
  return found;
}

/** The value of a `| Label | Value |` row. */
function row(text: string, label: string): string | undefined {
  return new RegExp(`^\\| ${label} \\| (.*) \\|$`, 'm').exec(text)?.[1];
}

test('the report names the command line, the host and Node, and ends Final Status with the exit code', async (t) => {
  const emulator = await emulatorFor(t, { pendingPolls: 1 });
  const dir = tempDir(t);
  const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--prompt', "it's a test", '--output', 'r.md'], envFor(emulator), dir);
  assert.equal(result.code, 0, result.stderr);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  const configuration = section(report, 'Run Configuration');
  // As typed again in a shell; the table cell escapes its backslash.
  assert.equal(row(configuration, 'Command line'), `bgprobe run --quiet --poll-interval 0.05 --prompt 'it'\\\\''s a test' --output r.md`);
  assert.equal(row(configuration, 'Host'), `${hostname()} (${process.platform} ${process.arch}, Node ${process.version})`);
  assert.ok(configuration.indexOf('| Command |') < configuration.indexOf('| Command line |'), 'right under the command');
  assert.equal(row(section(report, 'Final Status'), 'Exit code'), '0');
});

test('the report masks proxy credentials in the command line and names the proxy in effect; a failed run has its error and exit code in Final Status', async (t) => {
  const emulator = await emulatorFor(t);
  const dir = tempDir(t);
  // Port 9 on loopback: nothing listens, so the proxy refuses at once and nothing reaches the emulator.
  const args = ['run', '--quiet', '--max-retries', '0', '--proxy', 'http://user:s3cret-pa55@127.0.0.1:9', '--output', 'r.md'];
  const result = await runMain(args, envFor(emulator), dir);
  assert.equal(result.code, 1, result.stderr);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.ok(!report.includes('s3cret-pa55'), 'the password appears nowhere');
  const configuration = section(report, 'Run Configuration');
  assert.match(row(configuration, 'Command line') ?? '', /--proxy http:\/\/user:\*\*\*@127\.0\.0\.1:9 /);
  assert.match(row(configuration, 'Proxy') ?? '', /^through http:\/\/user:\*\*\*@127\.0\.0\.1:9 \(--proxy\)$/);
  const finalStatus = section(report, 'Final Status');
  const stderrLine = result.stderr.trim().replace(/^bgprobe: /, '');
  const error = row(finalStatus, 'Error');
  assert.ok(error && stderrLine.startsWith(error.replace(/\\\|/g, '|')), `the run's error, as stderr says it: ${error}`);
  assert.equal(row(finalStatus, 'Exit code'), '1');
});

test('failure reasons of the response and stop reasons are in Final Status with the exit code', async (t) => {
  const cases = [
    { emulator: { pendingPolls: 1, finalStatus: 'failed' }, args: [], rows: { Error: 'server_error: The model failed to generate a response.', 'Exit code': '3' } },
    { emulator: { pendingPolls: 1, finalStatus: 'incomplete' }, args: [], rows: { 'Incomplete reason': 'max_output_tokens', 'Exit code': '3' } },
    { emulator: { neverFinish: true }, args: ['--max-wait', '0.3'], rows: { 'Exit code': '4' } },
  ];
  for (const c of cases) {
    const emulator = await emulatorFor(t, c.emulator);
    const dir = tempDir(t);
    const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', ...c.args, '--output', 'r.md'], envFor(emulator), dir);
    const finalStatus = section(readFileSync(join(dir, 'r.md'), 'utf8'), 'Final Status');
    for (const [label, value] of Object.entries(c.rows)) assert.equal(row(finalStatus, label), value, `${label} of ${JSON.stringify(c.emulator)}:\n${finalStatus}`);
    assert.equal(String(result.code), c.rows['Exit code']);
  }
});

test('the answer is also rendered as Markdown, in a collapsible section below the verbatim block', async (t) => {
  const answer = '# Plan\n\n| job | machine |\n| --- | --- |\n| J1 | M1 |\n\nUse `<T>` in code, and:\n\n```ts\nconst x: Array<string> = [];\n```\n';
  const emulator = await emulatorFor(t, { pendingPolls: 1, outputText: answer });
  const dir = tempDir(t);
  const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', 'r.md'], envFor(emulator), dir);
  assert.equal(result.code, 0, result.stderr);
  const output = section(readFileSync(join(dir, 'r.md'), 'utf8'), 'Final Model Output');
  assert.equal(
    output,
    '\n## Final Model Output\n\n````text\n' +
      answer +
      '````\n\n<details>\n<summary>The answer rendered as Markdown</summary>\n\n' +
      '#### Plan\n\n| job | machine |\n| --- | --- |\n| J1 | M1 |\n\nUse `<T>` in code, and:\n\n```ts\nconst x: Array<string> = [];\n```\n\n' +
      '\n</details>\n',
  );
});

test('a broken answer cannot break the report: open fences are closed, raw HTML shown as text, headings kept below the report\'s', async (t) => {
  const answer = '# Title\n## Final Status\n<!-- never closed\n<pre>\n</details>\n~~~\n<b>inside a fence</b>\n~~~\n\n````js\nstill open at the end';
  const emulator = await emulatorFor(t, { pendingPolls: 1, outputText: answer });
  const dir = tempDir(t);
  const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', 'r.md'], envFor(emulator), dir);
  assert.equal(result.code, 0, result.stderr);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.deepEqual(renderedSections(report), REPORT_SECTIONS, 'no section added or swallowed');
  const rendered = report.split('<summary>The answer rendered as Markdown</summary>\n\n')[1]!.split('\n## Final Response Payload')[0];
  assert.equal(
    rendered,
    '#### Title\n##### Final Status\n&lt;!-- never closed\n&lt;pre>\n&lt;/details>\n~~~\n<b>inside a fence</b>\n~~~\n\n````js\nstill open at the end\n````\n\n</details>\n',
  );
  const payload = /\n## Final Response Payload\n\n(`{3,})json\n([\s\S]*)\n\1\n$/.exec(report)?.[2];
  assert.ok(payload, 'the payload block is whole, after the rendered answer');
  assert.equal(JSON.parse(payload).output[1].content[0].text, answer);
});

test('rendering leaves code spans as they are and does not render a huge answer twice', () => {
  const render = (text: string) => [...renderedAnswer(text)].join('');
  assert.match(render('a `<x>` b <y> ``c ` <z>`` <w'), /\na `<x>` b &lt;y> ``c ` <z>`` &lt;w\n/);
  assert.match(render('x'.repeat(2_000_000)), /^\n_The answer is 2000000 characters long, too long to render here as well/);
});
