import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFaults } from '../src/emulator/faults.js';
import { emulatorFor, envFor, runMain, tempDir } from './helpers.js';

interface Endpoint {
  name: string;
  verdict: string;
  status: number;
  detail: string;
}

test('check does not call a 429 or 5xx from the API "as expected": the path works, and the API\'s words are shown', async (t) => {
  const emulator = await emulatorFor(t, { faults: parseFaults('create1=429:quota,cancel1=500') });
  const result = await runMain(['check', '--json'], envFor(emulator), tempDir(t));
  const endpoints = (JSON.parse(result.stdout) as { endpoints: Endpoint[] }).endpoints;
  const byName = Object.fromEntries(endpoints.map((e) => [e.name, e]));
  // Egress works for every call: the API itself answered.
  assert.deepEqual(endpoints.map((e) => [e.name, e.verdict, e.status]), [['create', 'ok', 429], ['retrieve', 'ok', 404], ['cancel', 'ok', 500]]);
  assert.equal(result.code, 0);
  assert.match(byName['create']!.detail, /^the API answered HTTP 429, not the 400 this probe expects: the path works, but .*quota/);
  assert.doesNotMatch(byName['cancel']!.detail, /as expected/);
  assert.match(byName['retrieve']!.detail, /HTTP 404, as expected for this probe \(key accepted\)/);
});
