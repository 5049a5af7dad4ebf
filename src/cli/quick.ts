import { isCommandName } from './commands.js';
import { helpText, versionText } from './help.js';

/**
 * What to print for the common ways of asking for help or the version (`--help`, `-h`,
 * `--version`, `-v`, `<command> --help`, `help`, `help <command>`), or undefined for anything else, which goes through
 * the parser. Both the installed command (src/launcher.ts) and `main` answer these first, so
 * neither cac nor any command is loaded to print them.
 */
export function quickAnswer(args: readonly string[]): string | undefined {
  const [first, second, ...rest] = args;
  if (rest.length > 0 || first === undefined) return undefined;
  if (first === 'help') return second === undefined ? helpText() : isCommandName(second) ? helpText(second) : undefined;
  if (second === undefined) {
    if (first === '--help' || first === '-h') return helpText();
    if (first === '--version' || first === '-v') return versionText();
    return undefined;
  }
  return (second === '--help' || second === '-h') && isCommandName(first) ? helpText(first) : undefined;
}
