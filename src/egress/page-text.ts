import { pageTitle } from '../errors.js';

/** An HTML page's visible text: scripts, styles and tags dropped, common entities decoded. */
export function htmlText(html: string): string {
  const title = pageTitle(html);
  const body = html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;|&apos;/gi, "'")
    .replace(/&amp;/gi, '&')
    .replace(/\s+/g, ' ')
    .trim();
  if (!title) return body;
  return body.startsWith(title) ? body : `${title}: ${body}`;
}
