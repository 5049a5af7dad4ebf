import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ResponsesClient } from '../src/api/client.js';
import { createDispatcher, directSettings } from '../src/api/dispatcher.js';
import { buildCreateBody } from '../src/api/create-body.js';
import { emulatorFor, runCli, tempDir, TEST_KEY } from './helpers.js';

test('a whole run (create and every poll) uses one TCP connection', async (t) => {
  // Counted in polls, not milliseconds, so a loaded machine cannot end the run after one poll.
  const emulator = await emulatorFor(t, { pendingPolls: 3 });
  const result = await runCli(['run', '--poll-interval', '0.05', '--output', 'report.md'], {
    cwd: tempDir(t),
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 0, result.stderr);
  const polls = emulator.requests.filter((r) => r.method === 'GET').length;
  assert.equal(polls, 4, 'three pending polls, then the completed one');
  assert.equal(emulator.connections, 1, `${emulator.requests.length} requests over ${emulator.connections} connections`);
});

test('create, polls and a cancel on the run client share that one connection', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 5000, inProgressMs: 5000 });
  const network = directSettings(new URL(emulator.baseUrl), 5000, 1 << 20);
  const client = new ResponsesClient({ ...network, apiKey: TEST_KEY, createDispatcher: () => createDispatcher(network) });
  t.after(() => client.close());

  const created = await client.create(buildCreateBody({ model: 'gpt-5.2', instructions: 'Be brief.', prompt: 'Hi', reasoningEffort: 'low', verbosity: 'low' }));
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    assert.equal((await client.retrieve(created.response.id)).response.status, 'queued');
  }
  const cancelled = await client.cancel(created.response.id);
  assert.equal(cancelled.response.status, 'cancelled');
  assert.deepEqual(
    emulator.requests.map((r) => r.method),
    ['POST', 'GET', 'GET', 'GET', 'POST'],
  );
  assert.equal(emulator.connections, 1);
});
