import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/**
 * Why a file the user named cannot be read as text: a FIFO, a device or a socket would block
 * or never end (a FIFO with no writer blocks `readFileSync` forever), so it is refused before
 * anything is read. Opened without blocking, checked with fstat on the same descriptor (no
 * race with a rename), then read whole.
 */
export class UnreadableFile extends Error {
  constructor(
    /** `ENOENT`, `EISDIR`, ... or `not a regular file (a FIFO)` */
    readonly reason: string,
    readonly code: string | undefined,
  ) {
    super(reason);
  }
}

/** The text of a regular file; throws UnreadableFile for anything else. */
export function readRegularTextFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UnreadableFile(code ?? 'error', code);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new UnreadableFile('EISDIR', 'EISDIR');
    if (!stats.isFile()) throw new UnreadableFile(`not a regular file: ${kindOf(stats)}`, 'ENOTREG');
    return readFileSync(fd, 'utf8');
  } catch (error) {
    if (error instanceof UnreadableFile) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UnreadableFile(code ?? 'error', code);
  } finally {
    closeSync(fd);
  }
}

function kindOf(stats: import('node:fs').Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}
