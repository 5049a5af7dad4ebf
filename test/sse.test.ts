import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readStreamEvent, SseParser, streamErrorFields, type SseFrame } from '../src/api/sse.js';
import { ProtocolError } from '../src/errors.js';
import { describeEvent } from '../src/job/stream-events.js';

/** Feeds the text to a parser in the given pieces (as bytes, so a split may fall inside a character). */
function framesOf(text: string, pieceBytes: number, cap = 1 << 20): SseFrame[] {
  const bytes = Buffer.from(text, 'utf8');
  const parser = new SseParser(cap);
  const frames: SseFrame[] = [];
  for (let i = 0; i < bytes.length; i += pieceBytes) frames.push(...parser.push(bytes.subarray(i, i + pieceBytes)));
  frames.push(...parser.end());
  return frames;
}

const TWO_EVENTS =
  'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"queued"}}\n\n' +
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":1,"delta":"Grüße ✓"}\n\n';

test('events split anywhere across chunks, even inside a character, read the same as whole ones', () => {
  const whole = framesOf(TWO_EVENTS, 1 << 20).map((f) => [f.event, f.data]);
  assert.equal(whole.length, 2);
  for (const piece of [1, 2, 3, 7, 64]) {
    assert.deepEqual(framesOf(TWO_EVENTS, piece).map((f) => [f.event, f.data]), whole, `pieces of ${piece} bytes`);
  }
  assert.equal(readStreamEvent(framesOf(TWO_EVENTS, 1)[1] as SseFrame)?.data['delta'], 'Grüße ✓');
});

test('CRLF and lone CR line ends, split between chunks, end lines as LF does', () => {
  const crlf = TWO_EVENTS.replaceAll('\n', '\r\n');
  const cr = TWO_EVENTS.replaceAll('\n', '\r');
  const expected = framesOf(TWO_EVENTS, 1 << 20).map((f) => f.data);
  for (const piece of [1, 2, 5]) {
    assert.deepEqual(framesOf(crlf, piece).map((f) => f.data), expected, `CRLF in pieces of ${piece}`);
    assert.deepEqual(framesOf(cr, piece).map((f) => f.data), expected, `CR in pieces of ${piece}`);
  }
});

test('comments and keep-alives are skipped; id and retry fields are ignored; multi-line data is joined with newlines', () => {
  const text = ': keep-alive\n\n:\n\nid: 7\nretry: 1000\nevent: x\ndata: {"type":"x",\ndata: "sequence_number":3}\n\n';
  const frames = framesOf(text, 4);
  assert.equal(frames.length, 1);
  assert.equal(frames[0]?.data, '{"type":"x",\n"sequence_number":3}');
  assert.equal(readStreamEvent(frames[0] as SseFrame)?.sequenceNumber, 3);
});

test('a data: [DONE] sentinel is tolerated (no event), and a last frame without its blank line is dropped', () => {
  const frames = framesOf('data: [DONE]\n\nevent: cut\ndata: {"type":"cut"}\n', 3);
  assert.equal(frames.length, 1);
  assert.equal(readStreamEvent(frames[0] as SseFrame), undefined);
});

test('the error event is read in both shapes: the spec (top-level fields) and the real wire (nested error object)', () => {
  const spec = { type: 'error', sequence_number: 2, code: 'rate_limit_exceeded', message: 'Slow down', param: null };
  const wire = { type: 'error', sequence_number: 2, error: { type: 'too_many_requests', code: 'too_many_requests', message: 'Too Many Requests', param: null } };
  assert.deepEqual(streamErrorFields(spec), { code: 'rate_limit_exceeded', message: 'Slow down', type: undefined });
  assert.deepEqual(streamErrorFields(wire), { code: 'too_many_requests', message: 'Too Many Requests', type: 'too_many_requests' });
  const line = describeEvent({ type: 'error', sequenceNumber: 2, data: wire, chars: 0 });
  assert.equal(line?.level, 'ERROR');
  assert.match(line?.message ?? '', /error event: too_many_requests: Too Many Requests/);
});

test('an unknown event type is kept (its type read from the JSON) and logged in the report as unknown', () => {
  const [frame] = framesOf('data: {"type":"response.new_kind.delta","sequence_number":9}\n\n', 5);
  const event = readStreamEvent(frame as SseFrame);
  assert.equal(event?.type, 'response.new_kind.delta');
  const line = describeEvent(event as NonNullable<typeof event>);
  assert.equal(line?.reportOnly, true);
  assert.match(line?.message ?? '', /Stream event 9: unknown event type "response.new_kind.delta"/);
});

test('a frame over the size cap is refused before it ends, even when no line break comes', () => {
  const big = `event: x\ndata: {"type":"x","pad":"${'a'.repeat(5000)}"}\n\n`;
  assert.throws(() => framesOf(big, 512, 4096), (error: unknown) => error instanceof ProtocolError && /grew past 4096 bytes/.test(error.message));
  assert.throws(() => framesOf(`data: ${'a'.repeat(5000)}`, 100, 4096), ProtocolError);
  assert.equal(framesOf(big, 512, 8192).length, 1);
});

test('data that is not JSON is a protocol error naming the event', () => {
  const [frame] = framesOf('event: response.created\ndata: <html>\n\n', 100);
  assert.throws(() => readStreamEvent(frame as SseFrame), /server-sent event \("response.created"\) carries data that is not JSON/);
});

test("a large done event that repeats the whole text is dropped as it arrives, keeping only its cursor, wherever the key falls", () => {
  const text = 'x'.repeat(1_500_000);
  const cases: [string, string][] = [
    ['key first', `{"type":"response.output_text.done","sequence_number":1234,"text":"${text}"}`],
    ['key last, a quoted key inside the text', `{"type":"response.content_part.done","part":{"text":"\\"sequence_number\\":9 ${text}"},"sequence_number":1234}`],
  ];
  for (const [label, json] of cases) {
    const type = JSON.parse(json).type as string;
    // 65,521-byte pieces: the key and its number fall across a boundary somewhere in some case.
    for (const piece of [65_521, 1_000_000]) {
      const frames = framesOf(`event: ${type}\ndata: ${json}\n\n`, piece, 64 << 20);
      assert.equal(frames.length, 1, label);
      const event = readStreamEvent(frames[0] as SseFrame);
      assert.equal(event?.skipped, true, label);
      assert.equal(event?.sequenceNumber, 1234, `${label}, pieces of ${piece}`);
      assert.equal(event?.type, type);
      assert.ok((event?.chars ?? 0) > 1_500_000);
    }
  }
  // The terminal event is never skipped, however large: it carries the final Response.
  const completed = framesOf(`event: response.completed\ndata: {"type":"response.completed","sequence_number":7,"response":{"id":"r","pad":"${text}"}}\n\n`, 65_521, 64 << 20);
  const completedEvent = readStreamEvent(completed[0] as SseFrame);
  assert.equal(completedEvent?.skipped, undefined);
  assert.deepEqual((completedEvent?.data['response'] as { id?: string } | undefined)?.id, 'r');
});
