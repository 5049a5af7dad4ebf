import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { BIN, emulatorFor, tempDir, TEST_KEY } from './helpers.js';

test('progress lines arrive through a pipe while the run is still going', async (t) => {
  // A long in_progress phase: the first poll line must reach us long before the process ends.
  const emulator = await emulatorFor(t, { queuedMs: 50, inProgressMs: 1500 });
  const dir = tempDir(t);
  const child = spawn(process.execPath, [BIN, 'run', '--poll-interval', '0.1', '--output', 'r.md'], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const firstPoll = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      const line = seen.split('\n').find((l) => /Poll 1: status/.test(l));
      if (line) resolve(line);
    });
    child.on('close', () => reject(new Error(`exited before a poll line arrived: ${seen}`)));
  });
  assert.equal(exited, false, 'the poll line arrived before the process exited');
  assert.match(firstPoll, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO +Poll 1: status (queued|in_progress)/);
  assert.equal(await exit, 0);
});
