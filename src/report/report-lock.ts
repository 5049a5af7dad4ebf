import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { SetupError } from '../errors.js';
import { oneLine } from '../text.js';

/** Who holds a report's lock: enough to name the other run in the refusal, and to tell whether it still lives. */
interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly command: string;
}

/**
 * `r.md.lock` beside a report while a run writes it, so that a second run on the same path is
 * refused before it sends anything, instead of both printing "Report written to" over one file.
 * A lock whose process has ended (kill -9, a crash) is taken over.
 */
export class ReportLock {
  readonly path: string;
  readonly #content: string;
  #held = true;

  private constructor(path: string, content: string) {
    this.path = path;
    this.#content = content;
  }

  /** Takes the lock of `reportPath`, or throws the one line that names the run holding it. */
  static acquire(reportPath: string, lockPath: string, command: string): ReportLock {
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command };
    const content = `${JSON.stringify(holder)}\n`;
    // The lock appears with its content in one step (link), so nobody ever reads a half-made lock as stale.
    // Made anew ('wx' after removing whatever is there): a symlink planted at that path in a shared folder is never written through.
    const draft = `${lockPath}.${process.pid}.new`;
    removeQuietly(draft);
    writeFileSync(draft, content, { flag: 'wx' });
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(draft, lockPath);
          return new ReportLock(lockPath, content);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const other = readHolder(lockPath);
        if (other !== undefined && isAlive(other)) throw heldBy(reportPath, lockPath, other);
        takeOver(lockPath);
      }
      throw new SetupError(`the report ${JSON.stringify(reportPath)} is being locked and unlocked by other runs all the time (${lockPath}); choose another --output`, 'report_locked');
    } finally {
      removeQuietly(draft);
    }
  }

  /** Removes the lock if it is still this run's (never throws: it runs at exit too). */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      if (readFileSync(this.path, 'utf8') === this.#content) unlinkSync(this.path);
    } catch {
      // Already gone, or the folder with it: nothing is left to release.
    }
  }
}

function readHolder(lockPath: string): LockHolder | undefined {
  try {
    const value = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return { pid: value.pid, host: String(value.host ?? ''), since: String(value.since ?? '?'), command: String(value.command ?? '?') };
  } catch {
    // Gone meanwhile, or not a lock bgprobe wrote: either way nobody live holds it.
    return undefined;
  }
}

/** A process on another host cannot be checked from here: its lock counts as live. */
function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  return processExists(holder.pid);
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Moves a stale lock aside before removing it, so that two runs taking it over at once cannot remove each other's new lock. */
function takeOver(lockPath: string): void {
  const aside = `${lockPath}.${process.pid}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  removeQuietly(aside);
}

function heldBy(reportPath: string, lockPath: string, holder: LockHolder): SetupError {
  const where = holder.host === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
  return new SetupError(
    oneLine(
      `the report ${JSON.stringify(reportPath)} is being written by another bgprobe run (${where}, since ${holder.since}: ${holder.command}); ` +
        `wait for it to end or choose another --output (its lock is ${lockPath})`,
    ),
    'report_locked',
  );
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // nothing there, or nothing more to do
  }
}
