import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { parseFaults } from '../src/emulator/faults.js';
import { emulatorFor, TEST_KEY } from './helpers.js';

/*
 * The official SDK (a dev dependency, used by tests only) reads the emulator's streams as it
 * reads the API's: from the create, and resumed with starting_after. Before the emulator
 * streamed, the SDK's stream against it yielded no event and no error.
 */

interface Seen {
  readonly type: string;
  readonly sequence_number: number;
}

test('the SDK streams a background create from the emulator in the real order, numbered from 0 without a hole', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 100, inProgressMs: 300, outputText: 'Hello from the stream' });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: emulator.baseUrl, maxRetries: 0 });
  const stream = await client.responses.create({ model: 'gpt-5.2', input: 'hi', background: true, stream: true });
  const seen: Seen[] = [];
  let text = '';
  for await (const event of stream) {
    seen.push({ type: event.type, sequence_number: event.sequence_number });
    if (event.type === 'response.output_text.delta') text += event.delta;
  }
  assert.deepEqual(seen.slice(0, 3).map((e) => e.type), ['response.created', 'response.queued', 'response.in_progress']);
  assert.equal(seen.at(-1)?.type, 'response.completed');
  assert.deepEqual(seen.map((e) => e.sequence_number), seen.map((_, i) => i));
  for (const type of ['response.output_item.added', 'response.content_part.added', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done']) {
    assert.ok(seen.some((e) => e.type === type), `${type} is sent`);
  }
  assert.equal(text, 'Hello from the stream');
});

test('the SDK resumes a dropped stream with retrieve(stream, starting_after) and gets exactly the events after the cursor', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 100, inProgressMs: 400, faults: parseFaults('stream1=drop-after:4') });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: emulator.baseUrl, maxRetries: 0 });
  const stream = await client.responses.create({ model: 'gpt-5.2', input: 'hi', background: true, stream: true });
  let id = '';
  let cursor = -1;
  await assert.rejects(async () => {
    for await (const event of stream) {
      if (event.type === 'response.created') id = event.response.id;
      cursor = event.sequence_number;
    }
  });
  assert.equal(cursor, 4);
  const resumed = await client.responses.retrieve(id, { stream: true, starting_after: cursor });
  const numbers: number[] = [];
  let last = '';
  for await (const event of resumed) {
    numbers.push(event.sequence_number);
    last = event.type;
  }
  assert.equal(numbers[0], 5);
  assert.deepEqual(numbers, numbers.map((_, i) => i + 5));
  assert.equal(last, 'response.completed');
  assert.equal(emulator.requests.at(-1)?.query, 'stream=true&starting_after=4');
});

test('the SDK surfaces the real-wire error event as an error, and a too-old resume as a 400', async (t) => {
  const emulator = await emulatorFor(t, { queuedMs: 50, inProgressMs: 100, faults: parseFaults('stream1=error-event,stream2=too-old') });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: emulator.baseUrl, maxRetries: 0 });
  const stream = await client.responses.create({ model: 'gpt-5.2', input: 'hi', background: true, stream: true });
  let id = '';
  await assert.rejects(async () => {
    for await (const event of stream) if (event.type === 'response.created') id = event.response.id;
  }, /The server had an error while processing your request/);
  await assert.rejects(client.responses.retrieve(id, { stream: true, starting_after: 0 }), (error: unknown) => error instanceof OpenAI.APIError && error.status === 400);
});
