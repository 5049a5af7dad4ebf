import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FaultAction } from '../src/emulator/faults.js';
import { callsOf, emulatorFor, envFor, runCli, tempDir } from './helpers.js';

const cases: [string, FaultAction, RegExp][] = [
  ['a 200 that is not JSON', { kind: 'not-json' }, /retrieve \(GET \/v1\/responses\/resp_\w+\) was answered HTTP 200 by a web page that is not the OpenAI API \(an HTML page\): "Access denied/],
  ['an object without status', { kind: 'no-status' }, /the Response object for resp_\w+ has no status/],
  ['an answer about another id', { kind: 'wrong-id' }, /an answer about response "resp_\w+" came when asked about resp_\w+: not the API's answer/],
];

for (const [name, action, message] of cases) {
  test(`${name} ends the run with a clear error (exit 1), never a loop`, async (t) => {
    const emulator = await emulatorFor(t, { queuedMs: 5000, faults: [{ call: 'poll', nth: 2, andLater: true, action }] });
    const dir = tempDir(t);
    const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: dir, env: envFor(emulator), timeoutMs: 15_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(callsOf(emulator).polls, 2, 'not retried, not looped');
    const lines = result.stderr.trim().split('\n');
    assert.match(lines.at(-1)!, message);
    const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
    const report = readFileSync(join(dir, 'r.md'), 'utf8');
    assert.match(report, new RegExp(`\\| Resume \\| bgprobe poll ${id} --base-url \\S+ \\|`));
  });
}

test('a status the tool does not know is terminal: exit 3, named in the report', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 5000, faults: [{ call: 'poll', nth: 2, andLater: false, action: { kind: 'set-status', status: 'expired' } }] });
  const dir = tempDir(t);
  const result = await runCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 3, result.stderr);
  assert.equal(callsOf(emulator).polls, 2);
  assert.match(result.stdout, /Final status: expired\n$/);
  assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /\| Status \| expired \(not a status the API documents; treated as terminal\) \|/);
});
