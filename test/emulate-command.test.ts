import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulatorFor, runCli, tempDir } from './helpers.js';

test('bgprobe emulate on a port already in use says so in one line, with what to do', async (t) => {
  const busy = await emulatorFor(t);
  const result = await runCli(['emulate', '--port', String(busy.port)], { cwd: tempDir(t) });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `bgprobe: port ${busy.port} on 127.0.0.1 is already in use; choose another --port, or leave it out for a free one\n`);
  assert.equal(result.stdout, '');
});
