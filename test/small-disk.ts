import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/**
 * A folder on a tmpfs of `bytes` bytes, mounted for this test (tests run as root here), or the
 * reason it could not be made (no permission to mount, no mount command): the caller skips
 * with that reason. Unmounted and removed after the test.
 */
export function smallDisk(t: TestContext, bytes: number): { folder: string } | { reason: string } {
  const folder = mkdtempSync(join(tmpdir(), 'bgprobe-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', folder], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(folder, { recursive: true, force: true });
    return { reason: `cannot mount a small tmpfs here: ${(mounted.stderr || mounted.error?.message || `exit ${mounted.status}`).trim()}` };
  }
  t.after(() => {
    // Lazily, so a file a failed test left open cannot keep the mount.
    spawnSync('umount', ['-l', folder]);
    rmSync(folder, { recursive: true, force: true });
  });
  return { folder };
}

/** Fills the file system that holds `folder` until it has no byte left. */
export function fillDisk(folder: string): void {
  const fd = openSync(join(folder, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 120);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}
