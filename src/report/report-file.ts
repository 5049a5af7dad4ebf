import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Redactor } from '../redact.js';
import { processExists, ReportLock } from './report-lock.js';

/** Characters gathered before each write of the final document. */
const WRITE_CHARS = 64 * 1024;

/**
 * Where a report lives on disk, and the only code that writes it. A regular file gets a live
 * log while the run goes (its first part written once, then each event appended, so the bytes
 * written per event do not grow with the run), and the complete document once at the end,
 * through a temporary file renamed over the log: a killed run leaves the log, a failed final
 * write leaves the log too, never a truncated document. A character device or a FIFO is
 * written to as it is (never replaced), with the complete document only. Every write passes
 * the redactor; a write that is cut short is an error, never silent.
 */
export class ReportFile {
  readonly #target: string;
  readonly #redactor: Redactor;
  readonly #lock: ReportLock | undefined;
  /** The live log (regular file, once begun) or the device or FIFO itself. */
  #fd: number | undefined;
  /** Bytes of the live log known to be complete: a failed append is cut back to this. */
  #size = 0;
  #closed = false;
  readonly #onExit = () => this.close();

  private constructor(target: string, redactor: Redactor, fd: number | undefined, lock: ReportLock | undefined) {
    this.#target = target;
    this.#redactor = redactor;
    this.#fd = fd;
    this.#lock = lock;
    // A second Ctrl-C exits at once (process.exit): the lock and the temporary file go with it.
    process.on('exit', this.#onExit);
  }

  /** Whether the report is a device or a FIFO, which gets the complete document only. */
  get isStream(): boolean {
    return this.#lock === undefined;
  }

  /**
   * Makes ready to write the report at `path` (symlinks followed): its folders, the lock beside
   * it (refused when another live run holds it), the temporary files that killed runs left
   * removed; a device or FIFO is opened. Nothing of the report is written yet (`begin` does).
   * Throws the file system's error, or the refusal that names the other run.
   */
  static prepare(path: string, redactor: Redactor, command: string): ReportFile {
    const kind = outputKind(path);
    if (kind === 'stream') return new ReportFile(path, redactor, openStream(path), undefined);
    const target = kind === 'missing' ? followDanglingLinks(path) : realpathSync(path);
    makeFolders(dirname(target));
    const lock = ReportLock.acquire(path, `${target}.lock`, command);
    try {
      removeStrayTemporaries(target);
    } catch (error) {
      lock.release();
      throw error;
    }
    return new ReportFile(target, redactor, undefined, lock);
  }

  /**
   * Starts the live log with `text`, replacing whatever was at the path in one step (a
   * temporary file renamed over it). A device or FIFO gets nothing now: only the complete document.
   */
  begin(text: string): void {
    if (this.isStream) return;
    const temporary = temporaryOf(this.#target);
    const fd = createExclusive(temporary);
    try {
      const bytes = Buffer.from(this.#redactor.apply(text));
      writeAll(fd, bytes, 0);
      renameSync(temporary, this.#target);
      this.#fd = fd;
      this.#size = bytes.length;
    } catch (error) {
      closeSync(fd);
      removeQuietly(temporary);
      throw error;
    }
  }

  /** Appends to the live log; on failure the log is cut back to its last complete event, and the error thrown. */
  append(text: string): void {
    const fd = this.#fd;
    if (fd === undefined || this.isStream || this.#closed) return;
    // An open file outlives its name: a report removed (or its folder) would take the events nowhere.
    if (fstatSync(fd).nlink === 0) throw Object.assign(new Error(`${this.#target} was removed`), { code: 'ENOENT' });
    const bytes = Buffer.from(this.#redactor.apply(text));
    try {
      writeAll(fd, bytes, this.#size);
    } catch (error) {
      try {
        ftruncateSync(fd, this.#size);
      } catch {
        // The log keeps a cut line at its end; the error still says the report is not complete.
      }
      throw error;
    }
    this.#size += bytes.length;
  }

  /**
   * Writes the complete document: to a device or FIFO as it is; otherwise to a temporary file,
   * flushed to the disk and renamed over the live log, which stays untouched when this fails.
   */
  replace(pieces: Iterable<string>): void {
    if (this.#closed) throw Object.assign(new Error(`${this.#target} is closed`), { code: 'EBADF' });
    if (this.isStream) {
      if (this.#fd !== undefined) writePieces(this.#fd, pieces, this.#redactor, null);
      return;
    }
    const temporary = temporaryOf(this.#target);
    const out = createExclusive(temporary);
    try {
      writePieces(out, pieces, this.#redactor, 0);
      // A disk that is full or gone may only say so when the data is flushed.
      fsyncSync(out);
      closeSync(out);
    } catch (error) {
      closeSync(out);
      removeQuietly(temporary);
      throw error;
    }
    try {
      renameSync(temporary, this.#target);
    } catch (error) {
      removeQuietly(temporary);
      throw error;
    }
  }

  /** Closes the file and releases the lock; never throws (it also runs at process exit). */
  close(): void {
    this.#closed = true;
    process.off('exit', this.#onExit);
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {
        // nothing more to do
      }
      this.#fd = undefined;
    }
    if (this.#lock) {
      removeQuietly(temporaryOf(this.#target));
      this.#lock.release();
    }
  }
}

/** The temporary file of this process beside a report: `r.md.<pid>.tmp`. */
function temporaryOf(target: string): string {
  return `${target}.${process.pid}.tmp`;
}

type OutputKind = 'file' | 'missing' | 'stream';

function outputKind(path: string): OutputKind {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  if (stats.isFile()) return 'file';
  if (stats.isCharacterDevice() || stats.isFIFO()) return 'stream';
  if (stats.isDirectory()) throw Object.assign(new Error(`${path} is a folder`), { code: 'EISDIR' });
  // A block device is a disk: never written over by a report.
  throw Object.assign(new Error(`${path} is not a file, a character device or a FIFO`), { code: 'ENOTREG' });
}

/**
 * Opens a device or a FIFO for writing, as it is. A FIFO with no reader would block the run
 * before anything is sent: it is refused instead (ENXIO).
 */
function openStream(path: string): number {
  if (!statSync(path).isFIFO()) return openSync(path, constants.O_WRONLY);
  const probe = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    // Blocking writes, so a slow reader slows the write instead of failing it; the reader is there, so this open does not wait.
    return openSync(path, constants.O_WRONLY);
  } finally {
    closeSync(probe);
  }
}

/** The path a dangling symlink points to (followed link by link), so the report is created there, not over the link. */
function followDanglingLinks(path: string): string {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    try {
      if (!lstatSync(current).isSymbolicLink()) return current;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return current;
      throw error;
    }
    current = resolve(dirname(current), readlinkSync(current));
  }
  throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: 'ELOOP' });
}

/** Never writes through whatever sits at the temporary path: in a shared folder such as /tmp, a planted symlink there would have bgprobe overwrite another file. */
function createExclusive(path: string): number {
  removeIfPresent(path);
  return openSync(path, 'wx');
}

/** `r.md.<pid>.tmp` files of runs that no longer exist (killed during their final write). */
function removeStrayTemporaries(target: string): void {
  const folder = dirname(target);
  const prefix = `${basename(target)}.`;
  for (const name of readdirSync(folder)) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -'.tmp'.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processExists(pid)) continue;
    removeQuietly(join(folder, name));
  }
}

/** Writes every byte or throws: a short count (a disk filling up) is retried, and the retry names the error. */
function writeAll(fd: number, bytes: Buffer, position: number | null): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset, position === null ? null : position + offset);
    if (written <= 0) throw Object.assign(new Error('the write was cut short'), { code: 'EIO' });
    offset += written;
  }
}

/** Small pieces are gathered into writes of about 64 KB; large ones go out as they are. */
function writePieces(fd: number, pieces: Iterable<string>, redactor: Redactor, start: number | null): void {
  let position = start;
  let pending = '';
  const flush = () => {
    if (!pending) return;
    const bytes = Buffer.from(redactor.apply(pending));
    writeAll(fd, bytes, position);
    if (position !== null) position += bytes.length;
    pending = '';
  };
  for (const piece of pieces) {
    pending += piece;
    if (pending.length >= WRITE_CHARS) flush();
  }
  flush();
}

/**
 * Creates a folder and its missing parents one level at a time. Node 20's
 * `mkdirSync(dir, { recursive: true })` never returns when the kernel answers ENOENT for a
 * parent that exists (any path under /proc): it retries forever at full CPU.
 */
function makeFolders(dir: string): void {
  try {
    if (statSync(dir).isDirectory()) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const parent = dirname(dir);
    if (parent !== dir) makeFolders(parent);
    mkdirSync(dir);
    return;
  }
  throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
}

/** unlink, where nothing there is fine (rmSync would do the same, but loads a module of its own on first use). */
function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // nothing there, or nothing more to do
  }
}
