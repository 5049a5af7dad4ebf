/** Pure Markdown helpers for the report. */
import { oneLine } from '../text.js';

/** A code fence longer than any run of backticks in the content, so the content can never close it. */
export function fenceFor(content: string): string {
  let longest = 0;
  for (const match of content.matchAll(/`+/g)) longest = Math.max(longest, match[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** A fenced block; the content is kept as is. */
export function codeBlock(content: string, language = ''): string[] {
  const fence = fenceFor(content);
  return [`${fence}${language}\n`, content, content.endsWith('\n') ? '' : '\n', `${fence}\n`];
}

/** One table cell: pipes escaped, line breaks folded, so a value cannot break the row. */
export function cell(value: unknown): string {
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
