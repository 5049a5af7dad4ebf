import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiEnv, authorityOf, bgprobe, httpsEmulatorFor } from './egress-fixtures.js';
import { TEST_KEY } from './helpers.js';

/** A loopback port that nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('run through a proxy that refuses connections names the proxy, not the API host, and still retries the create', async (t) => {
  const emulator = await httpsEmulatorFor(t);
  const port = await closedPort();
  const password = 'Proxy-Pass-987';
  const env = apiEnv(emulator, { OPENAI_API_KEY: TEST_KEY, HTTPS_PROXY: `http://probe:${password}@127.0.0.1:${port}` });
  const result = await bgprobe(t, ['run', '--poll-interval', '0.05', '--output', 'report.md', '--max-retries', '1', '--prompt', 'ping'], env);
  assert.equal(result.code, 1, result.stderr);
  const line = /^bgprobe: (.+)$/m.exec(result.stderr)?.[1] ?? '';
  assert.equal(
    line,
    `create (POST /v1/responses): the connection to the proxy http://probe:***@127.0.0.1:${port} failed (ECONNREFUSED), before any CONNECT to ${authorityOf(emulator)}; check the proxy URL and that the proxy runs`,
  );
  // Nothing reached any server, so the create was safely sent again.
  assert.match(result.stderr, /WARN {2}Retry 1\/1 in .* the connection to the proxy/);
  assert.equal(emulator.requests.length, 0);
  const report = readFileSync(join(result.cwd, 'report.md'), 'utf8');
  assert.ok(report.includes(line), 'the report records the same diagnosis');
  assert.ok(!(result.stderr + result.stdout + report).includes(password), 'no proxy password anywhere');
});
