import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { helpText } from '../src/cli/help.js';
import { parseFaults, type FaultAction } from '../src/emulator/faults.js';
import { ROOT } from './helpers.js';

/**
 * Every action the emulator parses, by kind, with an example and the form its syntax shows:
 * a new kind of fault does not compile here until it has a row, and then must be listed.
 */
const ACTIONS: Record<FaultAction['kind'], readonly (readonly [example: string, form: string])[]> = {
  drop: [['drop', 'drop']],
  status: [
    ['503:retry-after=1', ':retry-after=SECONDS'],
    ['503:retry-after-ms=1500', ':retry-after-ms=MS'],
    ['429:quota', ':quota'],
  ],
  slow: [['slow:100', 'slow:MS']],
  'not-json': [['not-json', 'not-json']],
  'no-status': [['no-status', 'no-status']],
  'wrong-id': [['wrong-id', 'wrong-id']],
  'set-status': [['status:expired', 'status:WORD']],
  large: [['large:4096', 'large:BYTES']],
  'drop-after': [['drop-after:3', 'drop-after:SEQ']],
  'too-old': [['too-old', 'too-old']],
  buffer: [['buffer', 'buffer']],
  'error-event': [['error-event', 'error-event']],
};

/** The README's section on the emulator, up to the next section. */
function readmeEmulatorSection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## The emulator\n');
  assert.ok(start >= 0, 'the README has a section The emulator');
  const end = readme.indexOf('\n#', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

const listed = (text: string, form: string): boolean => new RegExp(`(?<![\\w-])${form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`).test(text);

test('emulate --help and the README list every fault action the emulator accepts', () => {
  const fault = helpText('emulate').split('\n').find((line) => line.trimStart().startsWith('--fault'));
  assert.ok(fault, 'emulate --help has a --fault line');
  const readme = readmeEmulatorSection();
  for (const [kind, rows] of Object.entries(ACTIONS)) {
    for (const [example, form] of rows) {
      assert.equal(parseFaults(`poll1=${example}`)[0]?.action.kind, kind, example);
      assert.ok(listed(fault, form), `emulate --help's --fault line lists ${form}`);
      assert.ok(readme.includes(`\`${form}\``), `the README's table of fault actions lists ${form}`);
    }
  }
});

test("every action in the README's table of faults is one the emulator accepts", () => {
  const rows = readmeEmulatorSection()
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  assert.ok(rows.length >= 10, 'the README has a table of fault actions');
  const values: Record<string, string> = { MS: '100', BYTES: '4096', SEQ: '3', WORD: 'expired' };
  for (const row of rows) {
    const firstCell = row.split('|')[1] ?? '';
    for (const [, form] of firstCell.matchAll(/`([^`]+)`/g)) {
      const example = (form as string).replace(/[A-Z]+$/, (placeholder) => values[placeholder] ?? placeholder);
      assert.doesNotThrow(() => parseFaults(`poll1=${example}`), `README's ${form}`);
    }
  }
});
