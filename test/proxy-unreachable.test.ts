import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { runCli, tempDir, TEST_KEY } from './helpers.js';

/** A loopback port that nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('a proxy that refuses the TCP connection is named as the proxy, not as the API host', async (t) => {
  const port = await closedPort();
  const result = await runCli(['run', '--base-url', 'https://api.example.test/v1', '--proxy', `http://127.0.0.1:${port}`, '--timeout', '2', '--max-retries', '0', '--output', 'r.md'], {
    cwd: tempDir(t),
    env: { OPENAI_API_KEY: TEST_KEY },
  });
  assert.equal(result.code, 1, result.stderr);
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.equal(last, `bgprobe: create (POST /v1/responses): the connection to the proxy http://127.0.0.1:${port} failed (ECONNREFUSED), before any CONNECT; check the proxy URL and that the proxy runs`);
});
