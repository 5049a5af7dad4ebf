import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, emulatorFor, envFor, runMain, tempDir, type CliResult } from './helpers.js';
import { errorLines } from './outputs.js';
import { fillDisk, smallDisk } from './small-disk.js';

/** An answer of about 300 KB: the complete report holds it three times, far more than the small disks below. */
const LARGE_ANSWER = `${'A long answer line with words in it.\n'.repeat(8000)}end`;

/** Waits until the report mentions `text`. */
async function waitForReport(path: string, text: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (existsSync(path) && readFileSync(path, 'utf8').includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the report never mentioned ${text}`);
}

/** The id the emulator created (its first poll asks for it). */
function createdId(emulator: { requests: readonly { method: string; path: string }[] }): string {
  const poll = emulator.requests.find((r) => r.method === 'GET');
  assert.ok(poll, 'a poll was made');
  return poll.path.split('/').at(-1)!;
}

/** What a report left after its final write failed must be: the live log, whole, with the id and every event. */
function assertLastCompleteCopy(report: string, id: string): void {
  assert.match(report, /^# bgprobe Background Mode Test Report\n\n_The run is still going, or was stopped before it ended/);
  assert.match(report, new RegExp(`- Response id: \`${id}\``));
  assert.match(report, /\[INFO\] Poll \d+: status completed/);
  assert.match(report, /\[INFO\] Response \S+ reached terminal status completed\n$/, 'every event, the last one whole');
  assert.doesNotMatch(report, /## Final Status/, 'no truncated document replaced it');
}

test('a full disk during the final write: exit 1, the id on stderr, the last complete copy kept (tmpfs)', async (t) => {
  const disk = smallDisk(t, 256 * 1024);
  if ('reason' in disk) return t.skip(disk.reason);
  const emulator = await emulatorFor(t, { pendingPolls: 2, outputText: LARGE_ANSWER });
  const path = join(disk.folder, 'r.md');
  const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', path], envFor(emulator), tempDir(t));
  assert.equal(result.code, 1, result.stderr);
  const id = createdId(emulator);
  const [line, ...more] = errorLines(result.stderr);
  assert.deepEqual(more, []);
  assert.match(line!, new RegExp(`^bgprobe: the report ".*r\\.md" cannot be written \\(ENOSPC: no space left on the device\\).*; response ${id} ended with status completed: see it again with "bgprobe poll ${id}( [^"]*)?"$`));
  assert.doesNotMatch(result.stdout, /Report written to/, 'not for a report that is not complete');
  assertLastCompleteCopy(readFileSync(path, 'utf8'), id);
  assert.deepEqual(readdirSync(disk.folder), ['r.md'], 'no temporary file, no lock');
});

test('a file size limit during the final write (a short write, then EFBIG): exit 1, the id on stderr, the last complete copy kept', async (t) => {
  const emulator = await emulatorFor(t, { pendingPolls: 2, outputText: LARGE_ANSWER });
  const dir = tempDir(t);
  // bash counts `ulimit -f` in KiB; Node ignores SIGXFSZ, so the write fails with EFBIG instead of killing it.
  const result = await runLimited(['run', '--quiet', '--poll-interval', '0.05', '--output', 'r.md'], dir, envFor(emulator), 64);
  assert.equal(result.code, 1, result.stderr);
  const id = createdId(emulator);
  const [line, ...more] = errorLines(result.stderr);
  assert.deepEqual(more, []);
  assert.match(line!, new RegExp(`^bgprobe: the report ".*r\\.md" cannot be written \\(EFBIG: the file size limit was reached\\).*; response ${id} ended with status completed: see it again with "bgprobe poll ${id}( [^"]*)?"$`));
  assert.doesNotMatch(result.stdout, /Report written to/);
  assertLastCompleteCopy(readFileSync(join(dir, 'r.md'), 'utf8'), id);
  assert.deepEqual(readdirSync(dir).filter((name) => name !== '.env'), ['r.md']);
});

for (const fault of ['the report folder removed', 'the disk full'] as const) {
  test(`${fault} while the create is in flight: the created id and the commands to resume or cancel still reach stderr`, async (t) => {
    let folder: string;
    if (fault === 'the disk full') {
      const disk = smallDisk(t, 64 * 1024);
      if ('reason' in disk) return t.skip(disk.reason);
      folder = join(disk.folder, 'out');
    } else {
      folder = join(tempDir(t), 'out');
    }
    const emulator = await emulatorFor(t, { neverFinish: true, faults: [{ call: 'create', nth: 1, andLater: false, action: { kind: 'slow', delayMs: 1500 } }] });
    const path = join(folder, 'r.md');
    const running = runMain(['run', '--quiet', '--poll-interval', '0.05', '--max-wait', '20', '--output', path], envFor(emulator), tempDir(t));
    await waitForReport(path, 'Submitting the background response');
    if (fault === 'the disk full') fillDisk(folder);
    else rmSync(folder, { recursive: true, force: true });
    const result = await running;
    assert.equal(result.code, 1, result.stderr);
    const created = emulator.requests.filter((r) => r.method === 'POST');
    assert.equal(created.length, 1, 'one create, never resent');
    const [line, ...more] = errorLines(result.stderr);
    assert.deepEqual(more, []);
    const id = /may still be running: resume with "bgprobe poll (resp_\w+)[ "]/.exec(line!)?.[1];
    assert.ok(id, `the id and the resume command: ${line}`);
    assert.match(line!, new RegExp(`^bgprobe: the report ".*r\\.md" cannot be written \\((ENOENT|ENOSPC)\\b.*; response ${id} may still be running: resume with "bgprobe poll ${id}( [^"]*)?", cancel with "bgprobe cancel ${id}( [^"]*)?"$`));
    assert.doesNotMatch(result.stdout, /Report written to/);
    if (fault === 'the report folder removed') {
      assert.equal(emulator.requests.filter((r) => r.method === 'GET').length, 0, 'the run ended at the create\'s answer');
    } else {
      // The live log keeps its last complete state: whole lines only, the create's key among them.
      const report = readFileSync(path, 'utf8');
      assert.match(report, /\[INFO\] Submitting the background response \(POST create, Idempotency-Key bgprobe-[\w-]+\)\n/);
      assert.ok(report.endsWith('\n'), 'no cut line at the end');
    }
  });
}

/** The installed CLI under a file size limit, in KiB. */
function runLimited(args: readonly string[], cwd: string, env: Record<string, string>, kib: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `ulimit -f ${kib} && exec "$0" "$@"`, process.execPath, BIN, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
