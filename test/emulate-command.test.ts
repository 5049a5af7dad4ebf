import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createResponseOn, emulatorFor, runCli, tempDir, TEST_KEY, startEmulateCommand } from './helpers.js';

test('bgprobe emulate --queued-seconds 0 --running-seconds 0 finishes a response at once', async (t) => {
  const { cli, baseUrl } = await startEmulateCommand(t, ['--queued-seconds', '0', '--running-seconds', '0.0']);
  const id = await createResponseOn({ baseUrl });
  const res = await fetch(`${baseUrl}/responses/${id}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  assert.equal(((await res.json()) as { status: string }).status, 'completed');
  cli.child.kill('SIGINT');
  assert.equal((await cli.done).code, 0);
});

test('bgprobe emulate on a port already in use says so in one line, with what to do', async (t) => {
  const busy = await emulatorFor(t);
  const result = await runCli(['emulate', '--port', String(busy.port)], { cwd: tempDir(t) });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `bgprobe: port ${busy.port} on 127.0.0.1 is already in use; choose another --port, or leave it out for a free one\n`);
  assert.equal(result.stdout, '');
});

test('bgprobe emulate --fault poll1+=large:BYTES pads the answers, so --max-response-bytes can be tried by hand', async (t) => {
  const { cli, baseUrl } = await startEmulateCommand(t, ['--fault', 'poll1+=large:300000']);
  const id = await createResponseOn({ baseUrl });
  const large = await (await fetch(`${baseUrl}/responses/${id}`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).text();
  assert.equal(Buffer.byteLength(large), 300000);
  assert.equal((JSON.parse(large) as { id: string }).id, id, 'the same Response object, padded');

  const dir = tempDir(t);
  const refused = await runCli(['poll', id, '--max-response-bytes', '100000', '--max-retries', '0', '--output', 'p.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl } });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /with a body over 100000 bytes \(the --max-response-bytes cap\)/);
  cli.child.kill('SIGINT');
  assert.equal((await cli.done).code, 0);
});
