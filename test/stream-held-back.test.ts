import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulatorFor, runMain, singleJsonObject, tempDir, TEST_KEY } from './helpers.js';
import { reverseProxy, type Relay } from './reverse-proxy.js';

/** Passes JSON through, but of an event stream sends the headers only and holds every byte of its body back. */
const holdingBody: Relay = (upstream, res) => {
  res.writeHead(upstream.statusCode ?? 502, upstream.headers);
  if (!String(upstream.headers['content-type']).startsWith('text/event-stream')) return void upstream.pipe(res);
  res.flushHeaders();
  upstream.resume();
};

test('poll --stream through a proxy that holds the body back: silent past --timeout while the server finished, it is called held back', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 200, inProgressMs: 800 });
  const res = await fetch(`${emulator.baseUrl}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5.2', input: 'made elsewhere', background: true, stream: true }),
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!/"id":"(resp_\w+)"/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  const id = /"id":"(resp_\w+)"/.exec(text)?.[1] as string;
  const baseUrl = await reverseProxy(t, emulator.baseUrl, holdingBody);
  // The one long wait: bgprobe says held back only when the server stamped its completion at least
  // 5 s before the silent stream was closed (stream-watch's margin), so --timeout must pass that.
  const run = await runMain(['poll', id, '--stream', '--json', '--timeout', '7'], { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl }, tempDir(t));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /gave no first event .*; retrieving its status/);
  const stream = singleJsonObject(run.stdout)['stream'] as Record<string, unknown>;
  assert.equal(stream['delivery'], 'buffered', JSON.stringify(stream));
  assert.match(String(stream['finding']), /No event arrived for [\d.]+ s while the server finished the response/);
});
