import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulatorFor, runMain, singleJsonObject, tempDir, TEST_KEY } from './helpers.js';
import { reverseProxy, type Relay } from './reverse-proxy.js';

/*
 * Real HTTP intermediaries on loopback between bgprobe and the emulator, each standing for what
 * sandbox proxies do to text/event-stream: one holds the whole answer back until it ends (a
 * buffering proxy or gateway), one cuts every connection at the same age. (One that holds only
 * the body back: stream-held-back.test.ts; a Ctrl-C during a streamed run: stream-interrupts.test.ts.)
 */

/** Holds the whole answer back, headers included, and sends it when the upstream ends. */
const buffering: Relay = (upstream, res) => {
  const chunks: Buffer[] = [];
  upstream.on('data', (chunk: Buffer) => chunks.push(chunk));
  upstream.on('end', () => {
    const { 'transfer-encoding': _, ...headers } = upstream.headers;
    res.writeHead(upstream.statusCode ?? 502, { ...headers, 'content-length': Buffer.concat(chunks).length });
    res.end(Buffer.concat(chunks));
  });
};

/** Passes the answer through as it comes, but cuts every connection `ageMs` after its answer began. */
function cuttingAt(ageMs: number): Relay {
  return (upstream, res) => {
    res.writeHead(upstream.statusCode ?? 502, upstream.headers);
    upstream.pipe(res);
    const timer = setTimeout(() => {
      upstream.destroy();
      res.socket?.destroy();
    }, ageMs);
    res.on('close', () => clearTimeout(timer));
  };
}

test('through a proxy that buffers the stream, run --stream still completes and says plainly that something buffers server-sent events', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 300, inProgressMs: 2500 });
  const baseUrl = await reverseProxy(t, emulator.baseUrl, buffering);
  const run = await runMain(['run', '--stream', '--json', '--output', 'r.md'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl }, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  const stream = singleJsonObject(run.stdout)['stream'] as Record<string, unknown>;
  assert.equal(stream['delivery'], 'buffered');
  assert.ok((stream['time_to_first_event_seconds'] as number) >= 2);
  assert.ok((stream['arrival_spread_seconds'] as number) < 0.5);
  assert.match(String(stream['finding']), /buffers server-sent events \(text\/event-stream\) until the response ends/);
  assert.match(run.stderr, /WARN .*arrived in one burst at the end/);
});

test('through a proxy that cuts every stream at the same age, run --stream resumes each time, completes, and names the cut', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 200, inProgressMs: 5600 });
  const baseUrl = await reverseProxy(t, emulator.baseUrl, cuttingAt(2000));
  const run = await runMain(['run', '--stream', '--json', '--output', 'r.md', '--max-retries', '8'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl }, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  const summary = singleJsonObject(run.stdout);
  assert.equal(summary['status'], 'completed');
  const stream = summary['stream'] as Record<string, unknown>;
  assert.ok((stream['gaps'] as unknown[]).length >= 2, JSON.stringify(stream));
  for (const gap of stream['gaps'] as { missing: number }[]) assert.equal(gap.missing, 0);
  assert.equal(stream['delivery'], 'cut');
  assert.match(String(stream['finding']), /cut \d+ times, each after about 2\.\d s open/);
  const resumes = emulator.requests.filter((r) => r.method === 'GET').map((r) => r.query);
  for (const query of resumes) assert.match(query, /^stream=true&starting_after=\d+$/);
});
