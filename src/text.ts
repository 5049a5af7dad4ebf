/**
 * Text from elsewhere (a server's message, a response id or status, a user's flag value) as
 * one printable line: line breaks fold into a space, so nobody can forge a log line, and other
 * control characters (terminal escape sequences included) become U+FFFD, so nobody can clear,
 * recolour or retitle the user's terminal.
 */
export function oneLine(text: string): string {
  return text
    .replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\uFFFD')
    .trim();
}

/** A word as a POSIX shell reads it: left bare when it is plainly safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
