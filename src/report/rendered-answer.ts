/**
 * The model's answer rendered as Markdown (it usually is: headings, lists, tables), inside a
 * collapsible `<details>` section under the verbatim block. An answer is text from elsewhere,
 * so nothing in it may reach past its section: a fence it leaves open is closed, raw HTML (an
 * unclosed `<!--` or `<pre>`, a `</details>`) is shown as text, and its headings are moved
 * below the report's own (`#` becomes `####`), so they never read as the report's sections.
 */

/** Past this many characters the answer is not rendered again: the verbatim block holds it whole. */
const RENDER_LIMIT_CHARS = 1 << 20;

/** Lines gathered per piece written. */
const PIECE_LINES = 512;

export function* renderedAnswer(text: string): Generator<string> {
  if (text.length > RENDER_LIMIT_CHARS) {
    yield `\n_The answer is ${text.length} characters long, too long to render here as well; the block above holds it whole._\n`;
    return;
  }
  yield '\n<details>\n<summary>The answer rendered as Markdown</summary>\n\n';
  let fence: OpenFence | undefined;
  let lines: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (fence) {
      if (closesFence(line, fence)) fence = undefined;
      lines.push(line);
    } else {
      fence = opensFence(line);
      lines.push(fence ? line : neutralised(line));
    }
    if (lines.length >= PIECE_LINES) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
  // A fence the answer left open would swallow the rest of the report.
  if (fence) yield `${fence.char.repeat(fence.length)}\n`;
  yield '\n</details>\n';
}

interface OpenFence {
  readonly char: '`' | '~';
  readonly length: number;
}

/** CommonMark: up to three spaces, then three or more backticks (with no backtick after them) or tildes. */
function opensFence(line: string): OpenFence | undefined {
  const match = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
  if (!match) return undefined;
  const marker = match[1] as string;
  const char = marker[0] as '`' | '~';
  if (char === '`' && (match[2] as string).includes('`')) return undefined;
  return { char, length: marker.length };
}

function closesFence(line: string, fence: OpenFence): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
  return match !== null && (match[1] as string)[0] === fence.char && (match[1] as string).length >= fence.length;
}

/** A line outside code blocks: headings moved down three levels, raw HTML shown as text (code spans untouched). */
function neutralised(line: string): string {
  const heading = /^( {0,3})(#{1,6})(?=[ \t]|$)/.exec(line);
  const moved = heading ? `${heading[1]}${'#'.repeat(Math.min(6, (heading[2] as string).length + 3))}${line.slice(heading[0].length)}` : line;
  return outsideCodeSpans(moved, (part) => part.replace(/<(?=[A-Za-z/!?])/g, '&lt;'));
}

/** Applies `change` to the parts of a line outside its code spans (backtick runs of equal length). */
function outsideCodeSpans(line: string, change: (part: string) => string): string {
  if (!line.includes('`')) return change(line);
  let out = '';
  let at = 0;
  for (;;) {
    const open = /`+/g;
    open.lastIndex = at;
    const start = open.exec(line);
    if (!start) break;
    const run = start[0];
    const close = new RegExp(`(?<!\`)${run}(?!\`)`, 'g');
    close.lastIndex = start.index + run.length;
    const end = close.exec(line);
    if (!end) {
      // No closing run: the backticks are text.
      out += change(line.slice(at, start.index + run.length));
      at = start.index + run.length;
      continue;
    }
    out += change(line.slice(at, start.index)) + line.slice(start.index, end.index + run.length);
    at = end.index + run.length;
  }
  return out + change(line.slice(at));
}
