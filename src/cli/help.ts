import { COMMANDS, GLOBAL_FLAGS, type CommandName, type FlagSpec } from './commands.js';
import { VERSION } from '../version.js';

/**
 * The texts of `--help` and `--version`, laid out as cac (the argument parser) lays them out,
 * without loading cac: the installed command prints them from a file of a few KB
 * (src/launcher.ts). A test keeps them equal to cac's own rendering of src/cli/commands.ts,
 * trailing spaces aside.
 */

const NAME = 'bgprobe';

/** `bgprobe/0.1.0 linux-x64 node-v20.20.2`, as cac prints it. */
export function versionText(): string {
  return `${NAME}/${VERSION} ${process.platform}-${process.arch} node-${process.version}\n`;
}

/** The help of one command, or of bgprobe as a whole when no command is named. */
export function helpText(command?: CommandName): string {
  const sections: string[] = [`${NAME}/${VERSION}`];
  if (command === undefined) {
    const names = Object.keys(COMMANDS) as CommandName[];
    sections.push(`Usage:\n  $ ${NAME} <command> [options]`);
    sections.push(`Commands:\n${columns(names.map((name) => [COMMANDS[name].usage, COMMANDS[name].description]))}`);
    sections.push(`For more info, run any command with the \`--help\` flag:\n${names.map((name) => `  $ ${NAME} ${name} --help`).join('\n')}`);
    sections.push(`Options:\n${columns([GLOBAL_FLAGS.help, GLOBAL_FLAGS.version])}`);
  } else {
    const info: { usage: string; flags: readonly FlagSpec[]; examples?: readonly string[] } = COMMANDS[command];
    sections.push(`Usage:\n  $ ${NAME} ${info.usage}`);
    sections.push(`Options:\n${columns([...info.flags, GLOBAL_FLAGS.help])}`);
    if (info.examples) sections.push(`Examples:\n${info.examples.join('\n')}`);
  }
  return `${sections.join('\n\n')}\n`;
}

/** Two columns: names padded to the longest, two spaces, descriptions. */
function columns(rows: readonly FlagSpec[]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, description]) => `  ${name.padEnd(width)}  ${description}`).join('\n');
}
