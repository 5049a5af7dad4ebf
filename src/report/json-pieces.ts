import { PIECE_CHARS, textPieces } from './markdown.js';

/**
 * `JSON.stringify(value, null, 2)`, character for character, as a sequence of pieces: a Response
 * with 20 MB of output text is written without ever building its 40 MB JSON text (V8 keeps
 * such text as UTF-16) in one string. Long strings are escaped piece by piece, cut only after
 * whitespace, so the redactor still sees every secret whole. Handles JSON data (what the API
 * sent, parsed), not class instances.
 */
export function* jsonPieces(value: unknown, indent = ''): Generator<string> {
  if (typeof value === 'string') {
    if (value.length <= PIECE_CHARS) {
      yield JSON.stringify(value);
      return;
    }
    yield '"';
    for (const piece of textPieces(value)) yield JSON.stringify(piece).slice(1, -1);
    yield '"';
    return;
  }
  if (typeof value !== 'object' || value === null) {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield '[]';
      return;
    }
    for (let i = 0; i < value.length; i++) {
      yield `${i === 0 ? '[' : ','}\n${inner}`;
      yield* jsonPieces(omitted(value[i]) ? null : value[i], inner);
    }
    yield `\n${indent}]`;
    return;
  }
  const entries = Object.entries(value).filter(([, v]) => !omitted(v));
  if (entries.length === 0) {
    yield '{}';
    return;
  }
  let first = true;
  for (const [key, v] of entries) {
    yield `${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `;
    yield* jsonPieces(v, inner);
    first = false;
  }
  yield `\n${indent}}`;
}

/** Values JSON.stringify leaves out of objects (and writes as null in arrays). */
function omitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}
