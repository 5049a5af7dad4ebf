import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redactor } from '../src/redact.js';
import { jsonPieces } from '../src/report/json-pieces.js';
import { fenceFor, longestBacktickRun, textPieces } from '../src/report/markdown.js';
import { RunReport } from '../src/report/report.js';
import { tempDir, TEST_KEY } from './helpers.js';

const LONG = `${'word '.repeat(300_000)}tail`;

test('jsonPieces writes exactly what JSON.stringify(value, null, 2) writes', () => {
  const cases: unknown[] = [
    null,
    0,
    -1.5e-7,
    true,
    'plain',
    'quote " backslash \\ newline \n tab \t control \u0001 emoji 😀 lone \ud800',
    [],
    {},
    [1, 'two', null, [], {}, [[]]],
    { a: 1, b: { c: [true, false], d: {} }, 'odd key "x"': 'v', gone: undefined, fn: () => 1 },
    [undefined, () => 1],
    { output: [{ type: 'message', content: [{ type: 'output_text', text: LONG }] }] },
    { emoji: '😀 '.repeat(600_000) },
  ];
  for (const value of cases) {
    assert.equal([...jsonPieces(value)].join(''), JSON.stringify(value, null, 2));
  }
});

test('a long text is cut into pieces only after whitespace, never inside a key', () => {
  const text = `${'a'.repeat(1000)} ${TEST_KEY} `.repeat(200);
  const pieces = [...textPieces(text, 4096)];
  assert.ok(pieces.length > 10);
  assert.equal(pieces.join(''), text);
  for (const piece of pieces) {
    assert.equal(piece.split(TEST_KEY).length - 1, (piece.match(/sk-test/g) ?? []).length, 'every key in a piece is whole');
  }
  const bearer = `${'x '.repeat(3000)}Authorization: Bearer ${'t'.repeat(40)} ${'y '.repeat(3000)}`;
  for (const piece of textPieces(bearer, 6010)) assert.ok(!/bearer\s+$/i.test(piece), 'Bearer stays with its token');
  assert.deepEqual([...textPieces('x'.repeat(10_000), 100)], ['x'.repeat(10_000)], 'no whitespace: one piece');
});

test('the fence outgrows backtick runs, even across pieces', () => {
  assert.equal(longestBacktickRun(['a``', '``b', '`']), 4);
  assert.equal(longestBacktickRun(['a``', 'x', '``b']), 2);
  assert.equal(longestBacktickRun(['``', '', '``']), 4);
  assert.equal(fenceFor('no ticks'), '```');
  assert.equal(fenceFor('one ````` run'), '``````');
  assert.equal(fenceFor(['```', '`']), '`````');
});

test('a report with a large answer is complete, masked and parseable', (t) => {
  const dir = tempDir(t);
  const answer = `Answer with \`\`\`\` fences and the key ${TEST_KEY} inside.\n${'line of text – with “quotes”\n'.repeat(150_000)}end ${TEST_KEY}`;
  const payload = { id: 'resp_1', status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: answer }] }] };
  const report = RunReport.open(join(dir, 'r.md'), { title: 'T Report', configuration: [], prompt: [] }, new Redactor().add(TEST_KEY));
  report.finish({ status: [['Status', 'completed']], outputText: answer, noOutputNote: '', payload, summary: { status: 'completed', elapsedSeconds: 1, polls: 1, usage: undefined } });

  const markdown = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.ok(!markdown.includes(TEST_KEY), 'the key is masked everywhere');
  const masked = answer.split(TEST_KEY).join('sk-...CRET');
  const output = markdown.split('## Final Model Output\n\n')[1]!.split('\n## Final Response Payload')[0]!;
  assert.ok(output.startsWith(`\`\`\`\`\`text\n${masked}\n\`\`\`\`\`\n`), 'the answer verbatim, fenced past its backticks');
  assert.match(output.slice(masked.length), /too long to render here as well/, 'a 4 MB answer is not rendered a second time');
  const json = /^`````json\n([\s\S]*)\n`````\n$/.exec(markdown.split('## Final Response Payload\n\n')[1]!)?.[1];
  assert.ok(json, 'the payload block is fenced past the answer\'s backticks');
  assert.equal(JSON.parse(json).output[0].content[0].text, masked);
});
