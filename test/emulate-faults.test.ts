import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createResponseOn, tempDir, TEST_KEY, runCli, startEmulateCommand } from './helpers.js';

test('bgprobe emulate --fault scripts a 503 with Retry-After on the chosen poll', async (t) => {
  const { cli, baseUrl } = await startEmulateCommand(t, ['--queued-seconds', '0.1', '--fault', 'poll2=503:retry-after=2']);
  const id = await createResponseOn({ baseUrl });
  const get = () => fetch(`${baseUrl}/responses/${id}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  assert.equal((await get()).status, 200);
  const second = await get();
  assert.equal(second.status, 503);
  assert.equal(second.headers.get('retry-after'), '2');
  assert.equal((await get()).status, 200);
  cli.child.kill('SIGINT');
  assert.equal((await cli.done).code, 0);
});

test('bgprobe emulate --never-finish keeps responses in_progress', async (t) => {
  const { cli, baseUrl } = await startEmulateCommand(t, ['--queued-seconds', '0.05', '--running-seconds', '0.05', '--never-finish']);
  const id = await createResponseOn({ baseUrl });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const res = await fetch(`${baseUrl}/responses/${id}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  assert.equal(((await res.json()) as { status: string }).status, 'in_progress');
  cli.child.kill('SIGTERM');
  await cli.done;
});

test('a malformed --fault is a usage error', async (t) => {
  const result = await runCli(['emulate', '--fault', 'poll1=explode'], { cwd: tempDir(t) });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^bgprobe: --fault: fault "poll1=explode" has an unknown action; syntax: /);
});
