import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { emulatorFor, envFor, runMain, tempDir } from './helpers.js';
import type { CheckEndpoint } from './egress-fixtures.js';


test('check does not call a 429 or 5xx from the API "as expected": the path works, and the API\'s words are shown', async (t) => {
  const emulator = await emulatorFor(t, { faults: parseFaults('create1=429,cancel1=500') });
  const result = await runMain(['check', '--json'], envFor(emulator), tempDir(t));
  const endpoints = (JSON.parse(result.stdout) as { endpoints: CheckEndpoint[] }).endpoints;
  const byName = Object.fromEntries(endpoints.map((e) => [e.name, e]));
  // Egress works for every call: the API itself answered.
  assert.deepEqual(endpoints.map((e) => [e.name, e.verdict, e.status]), [['create', 'ok', 429], ['retrieve', 'ok', 404], ['cancel', 'ok', 500]]);
  assert.equal(result.code, 0);
  assert.equal((byName['create'] as unknown as { cause: string }).cause, 'api_busy');
  assert.match(byName['create']!.detail, /^the API answered HTTP 429, not the 400 this probe expects: the path works, but Rate limit reached/);
  assert.doesNotMatch(byName['cancel']!.detail, /as expected/);
  assert.match(byName['retrieve']!.detail, /HTTP 404, as expected for this probe \(key accepted\)/);
});

test('an exhausted quota is not "ok": a run could not start, so check says auth with the fix, and exits 1', async (t) => {
  const emulator = await emulatorFor(t, { faults: parseFaults('create1=429:quota') });
  const result = await runMain(['check', '--json'], envFor(emulator), tempDir(t));
  const create = (JSON.parse(result.stdout) as { endpoints: (CheckEndpoint & { cause: string; hint: string })[] }).endpoints[0]!;
  assert.deepEqual([create.verdict, create.cause, create.status], ['auth', 'quota_exhausted', 429]);
  assert.match(create.detail, /You exceeded your current quota/);
  assert.match(create.hint, /billing/);
  assert.equal(result.code, 1);
});
