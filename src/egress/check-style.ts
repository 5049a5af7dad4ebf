import type { ConsoleFlags } from '../cli/flags.js';
import { styleFor, type Style } from '../console/format.js';
import type { Io } from '../io.js';

/** C0 and C1 control characters other than line feed, as main() replaces them on stdout. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `check`'s text for stdout, coloured when `checkUsesColour` says so. The text's own control
 * characters (a server's words) are replaced first, so only our colour codes remain; main
 * writes it (src/cli/outcome.ts's `stdoutStyled`), masked like every output.
 */
export function checkText(text: string, ok: boolean, colour: boolean): { stdout: string; stdoutStyled: boolean } {
  const safe = text.replace(CONTROL_CHARACTERS, '\uFFFD');
  return colour ? { stdout: colourCheckText(safe, styleFor(true), ok), stdoutStyled: true } : { stdout: safe, stdoutStyled: false };
}

/** Marks and verdicts that start a stage or endpoint line of `check`'s text, by how they read. */
const GOOD = new Set(['ok']);
const BAD = new Set(['FAIL', 'auth', 'blocked', 'unreachable', 'wrong-server']);
const QUIET = new Set(['skip']);

/**
 * Colour for `check`'s text, which goes to stdout: only when stdout is a terminal that can show
 * it, never with NO_COLOR (https://no-color.org) or --no-color, so pipes and files stay plain.
 */
export function checkUsesColour(flags: Pick<ConsoleFlags, 'noColor'>, io: Io): boolean {
  return io.stdout.isTTY === true && io.env['TERM'] !== 'dumb' && (io.env['NO_COLOR'] ?? '') === '' && !flags.noColor;
}

/**
 * The same text with its marks and verdicts coloured, headings bold and the result line green
 * or red. Only the leading word of a line is wrapped, after its padding was computed, so the
 * columns stay where the plain text has them.
 */
function colourCheckText(text: string, style: Style, ok: boolean): string {
  return text
    .split('\n')
    .map((line, index) => {
      if (index === 0 || line === 'Stages' || line === 'Endpoints' || line === 'Notes') return line === '' ? line : style.bold(line);
      if (line.startsWith('Result: ')) return ok ? style.green(line) : style.red(line);
      const hint = /^(\s+)(hint:)(.*)$/.exec(line);
      if (hint) return `${hint[1]}${style.yellow(hint[2] ?? '')}${hint[3]}`;
      const lead = /^( {2})(\S+)(.*)$/.exec(line);
      if (!lead) return line;
      const [, indent = '', word = '', rest = ''] = lead;
      const paint = GOOD.has(word) ? style.green : BAD.has(word) ? style.red : QUIET.has(word) ? style.dim : undefined;
      return paint ? `${indent}${paint(word)}${rest}` : line;
    })
    .join('\n');
}
