import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulatorFor, startEmulateCommand, TEST_KEY } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: these tests walk the emulator's JSON as it comes off the wire
type Json = Record<string, any>;

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

const auth = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };

test('the emulator answers 401 with the OpenAI error envelope when the bearer key is missing', async (t) => {
  const emulator = await emulatorFor(t);
  const res = await call(`${emulator.baseUrl}/responses/resp_x`);
  assert.equal(res.status, 401);
  assert.equal(res.body.error.type, 'invalid_request_error');
  assert.match(res.body.error.message, /You didn't provide an API key/);
  assert.equal(res.body.error.param, null);
  assert.equal(res.body.error.code, null);
  assert.match(res.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/);
  assert.equal(res.headers.get('openai-version'), '2020-10-01');
  assert.match(res.headers.get('openai-processing-ms') ?? '', /^\d+$/);
});

test('the emulator answers 404 for an unknown id, on retrieve and cancel', async (t) => {
  const emulator = await emulatorFor(t);
  for (const [method, path] of [
    ['GET', '/responses/resp_nope'],
    ['POST', '/responses/resp_nope/cancel'],
  ] as const) {
    const res = await call(emulator.baseUrl + path, { method, headers: auth });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.message, "Response with id 'resp_nope' not found.");
  }
});

test('the emulator answers 400 for an invalid create body', async (t) => {
  const emulator = await emulatorFor(t);
  const cases: [unknown, string | null, RegExp][] = [
    [{ input: 'hi' }, 'model', /Missing required parameter: 'model'/],
    [{ model: 'm' }, 'input', /Missing required parameter: 'input'/],
    [{ model: 'm', input: 'hi', background: true, store: false }, 'background', /background=true requires store=true/],
  ];
  for (const [body, param, message] of cases) {
    const res = await call(`${emulator.baseUrl}/responses`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error.param, param);
    assert.match(res.body.error.message, message);
  }
  const broken = await call(`${emulator.baseUrl}/responses`, { method: 'POST', headers: auth, body: '{not json' });
  assert.equal(broken.status, 400);
});

test('the emulator walks a background response through queued, in_progress and completed, and cancels', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 300, inProgressMs: 1000 });
  const create = async () =>
    call(`${emulator.baseUrl}/responses`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'm', input: 'hi', background: true }) });
  const created = await create();
  assert.equal(created.body.status, 'queued');
  assert.deepEqual(created.body.output, []);
  assert.equal(created.body.usage, null);
  // Watch the statuses go by (bounded), rather than betting on when each phase ends.
  const seen = ['queued'];
  let done: Json = created.body;
  for (let i = 0; i < 250 && done.status !== 'completed'; i++) {
    await new Promise((r) => setTimeout(r, 20));
    done = (await call(`${emulator.baseUrl}/responses/${created.body.id}`, { headers: auth })).body;
    if (seen.at(-1) !== done.status) seen.push(done.status);
  }
  assert.deepEqual(seen, ['queued', 'in_progress', 'completed']);
  assert.deepEqual(done.output.map((i: { type: string }) => i.type), ['reasoning', 'message']);
  assert.equal(done.output[1].content[0].type, 'output_text');
  assert.equal(typeof done.usage.output_tokens_details.reasoning_tokens, 'number');
  const cancelDone = await call(`${emulator.baseUrl}/responses/${created.body.id}/cancel`, { method: 'POST', headers: auth });
  assert.equal(cancelDone.status, 400);
  assert.equal(cancelDone.body.error.message, 'Cannot cancel a completed response.');

  const second = await create();
  const cancelled = await call(`${emulator.baseUrl}/responses/${second.body.id}/cancel`, { method: 'POST', headers: auth });
  assert.equal(cancelled.body.status, 'cancelled');
  const again = await call(`${emulator.baseUrl}/responses/${second.body.id}/cancel`, { method: 'POST', headers: auth });
  assert.equal(again.status, 200, 'cancelling twice is idempotent');
  assert.equal(again.body.status, 'cancelled');
});

test('bgprobe emulate prints the URL it listens on and serves until interrupted', async (t) => {
  const { cli, baseUrl: url } = await startEmulateCommand(t, ['--port', '0']);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  const res = await call(`${url}/responses/resp_x`, { headers: auth });
  assert.equal(res.status, 404);
  cli.child.kill('SIGINT');
  assert.equal((await cli.done).code, 0);
});
