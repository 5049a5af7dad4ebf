import { shellWord } from '../text.js';

/**
 * The command line as the user typed it, for the report and a second run's refusal: each word
 * shell-quoted where it needs to be, so it can be read (and typed) again. Secrets in it (a
 * proxy password) are masked where it is written, by the redactor.
 */
export function commandLine(argv: readonly string[] | undefined): string {
  if (argv === undefined) return 'bgprobe';
  return ['bgprobe', ...argv].map(shellWord).join(' ');
}
