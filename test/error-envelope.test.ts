import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvelope } from '../src/api/error-envelope.js';
import { answerWords, whoAnswered } from '../src/egress/answer-origin.js';

// One reading of the API's error envelope serves the raised ApiError, who answered, and the quoted words.
const CASES: [label: string, body: string, message: string | undefined][] = [
  ['the envelope', '{"error":{"message":"Invalid URL (GET /v1/nope)","type":"invalid_request_error","param":null,"code":null}}', 'Invalid URL (GET /v1/nope)'],
  ['an envelope with only a message', '{"error":{"message":"slow down"}}', 'slow down'],
  ['a message that is not a string', '{"error":{"message":42}}', undefined],
  ['an error that is a string', '{"error":"denied"}', undefined],
  ['an error that is a list', '{"error":[{"message":"x"}]}', undefined],
  ['JSON null', 'null', undefined],
  ['not JSON', '<html><title>Blocked</title></html>', undefined],
  ['empty', '', undefined],
];

test('the API error envelope is read the same way for the error, its origin and its words', () => {
  for (const [label, body, message] of CASES) {
    assert.equal(parseEnvelope(body)?.message, message, label);
    const origin = whoAnswered(404, {}, body);
    assert.equal(origin.evidence === 'OpenAI error envelope', message !== undefined, label);
    if (message !== undefined) assert.equal(answerWords(body, 'application/json'), message, label);
  }
  assert.deepEqual(parseEnvelope('{"error":{"message":"m","type":"t","param":7,"code":"c"}}'), { message: 'm', type: 't', param: null, code: 'c' });
});
