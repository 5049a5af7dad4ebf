import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.js';

test("every cause code check's --json can give is documented in docs/outbound-network-access.md, and no other", () => {
  // The Cause type has no runtime list: read its members, one per line, from the source.
  const source = readFileSync(join(ROOT, 'src', 'egress', 'probes.ts'), 'utf8');
  const union = source.slice(source.indexOf('export type Cause ='), source.indexOf(';', source.indexOf('export type Cause =')));
  const causes = [...union.matchAll(/\| '([a-z_]+)'/g)].map((m) => m[1] as string);
  assert.ok(causes.length >= 18, `found ${causes.length} causes`);
  const doc = readFileSync(join(ROOT, 'docs', 'outbound-network-access.md'), 'utf8');
  const table = doc.slice(doc.indexOf('| cause | verdict | meaning |'));
  const documented = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1] as string);
  assert.deepEqual([...documented].sort(), [...causes].sort());
});
