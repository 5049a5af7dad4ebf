/** Pure Markdown helpers for the report. */
import { oneLine } from '../text.js';

/** Size of the pieces a long text is written in, so a 20 MB answer is never copied whole. */
export const PIECE_CHARS = 1 << 20;

/** The longest run of backticks in a sequence of pieces, counting runs that span two pieces. */
export function longestBacktickRun(pieces: Iterable<string>): number {
  let longest = 0;
  let carry = 0; // backticks at the end of the pieces so far
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    let at = piece.indexOf('`');
    if (at !== 0) carry = 0;
    while (at !== -1) {
      let end = at + 1;
      while (end < piece.length && piece.charCodeAt(end) === 96) end++;
      const run = (at === 0 ? carry : 0) + (end - at);
      longest = Math.max(longest, run);
      carry = end === piece.length ? run : 0;
      at = end === piece.length ? -1 : piece.indexOf('`', end);
    }
  }
  return longest;
}

/** A code fence longer than any run of backticks in the content, so the content can never close it. */
export function fenceFor(content: string | Iterable<string>): string {
  const longest = longestBacktickRun(typeof content === 'string' ? [content] : content);
  return '`'.repeat(Math.max(3, longest + 1));
}

/**
 * Cuts a long text into pieces of about `size` characters, only just after whitespace, so
 * that no secret (an API key has no whitespace) and no `Bearer <token>` is cut in two: the
 * redactor, applied piece by piece, still sees each of them whole. A text without whitespace
 * stays one piece. The pieces are slices: V8 does not copy them.
 */
export function* textPieces(text: string, size: number = PIECE_CHARS): Generator<string> {
  let start = 0;
  while (text.length - start > size) {
    let cut = lastWhitespaceBefore(text, start + size, start + Math.floor(size / 2));
    if (cut === -1) cut = nextWhitespaceAfter(text, start + size);
    if (cut === -1) break;
    // Keep "Bearer" with the token after it.
    const bearer = /bearer\s+$/i.exec(text.slice(Math.max(start, cut - 64), cut));
    if (bearer) cut = Math.max(start, cut - 64) + bearer.index;
    if (cut <= start) break;
    yield text.slice(start, cut);
    start = cut;
  }
  yield start === 0 ? text : text.slice(start);
}

/** Index just after the last whitespace in [from, before), or -1. */
function lastWhitespaceBefore(text: string, before: number, from: number): number {
  for (const mark of ['\n', ' ', '\t']) {
    const at = text.lastIndexOf(mark, before - 1);
    if (at >= from) return at + 1;
  }
  return -1;
}

function nextWhitespaceAfter(text: string, from: number): number {
  const match = /\s/g;
  match.lastIndex = from;
  return match.exec(text) ? match.lastIndex : -1;
}

/** A fenced block; the content is kept as is, in pieces. */
export function codeBlock(content: string, language = ''): string[] {
  const fence = fenceFor(content);
  return [`${fence}${language}\n`, ...textPieces(content), content.endsWith('\n') ? '' : '\n', `${fence}\n`];
}

/**
 * A fenced block around content made on demand (e.g. a large JSON payload): one pass to size
 * the fence, one to write, so the content never exists as one string.
 */
export function* fencedPieces(pieces: () => Iterable<string>, language = ''): Generator<string> {
  const fence = fenceFor(pieces());
  yield `${fence}${language}\n`;
  let last = '';
  for (const piece of pieces()) {
    if (piece.length > 0) last = piece;
    yield piece;
  }
  if (!last.endsWith('\n')) yield '\n';
  yield `${fence}\n`;
}

/** One table cell: pipes escaped, line breaks folded, so a value cannot break the row. */
function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  return oneLine(String(value)).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

export function tableRow(values: readonly unknown[]): string {
  return `| ${values.map(cell).join(' | ')} |\n`;
}

export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = `| ${headers.join(' | ')} |\n| ${headers.map(() => '---').join(' | ')} |\n`;
  return head + rows.map(tableRow).join('');
}
