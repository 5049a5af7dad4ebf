/**
 * A long answer shaped like a model's Markdown, with the non-Latin-1 characters real answers
 * carry (– “ ” →), so that V8 holds it as UTF-16: the worst case for memory.
 */
export function largeAnswer(chars: number): string {
  const line = '| J1 | M1 | 0 h – 3 h | the “critical” path: M1 → M2 → M3, slack 0 h |\n';
  return line.repeat(Math.ceil(chars / line.length)).slice(0, chars);
}
