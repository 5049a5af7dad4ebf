import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, callsOf, emulatorFor, envFor, tempDir } from './helpers.js';

/** A response that takes a dozen polls, so the run writes long after its reader is gone. */
const SLOW = { queuedMs: 300, inProgressMs: 600 };

interface Ended {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the installed CLI with real pipes and closes our end of one of them: `stderr` after the
 * first line arrived (as `2>&1 >/dev/null | head -1` does), `stdout` at once (as `| true` does).
 */
function runClosing(t: TestContext, which: 'stdout' | 'stderr', args: readonly string[], cwd: string, env: Record<string, string>): Promise<Ended> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  if (which === 'stdout') child.stdout.destroy();
  else child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (which !== 'stderr') stderr += d;
    else if (!stderr.includes('\n')) {
      stderr += d;
      if (stderr.includes('\n')) child.stderr.destroy();
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('stderr closed after its first line: the run still polls to the end, completes its report and exits 0', async (t) => {
  const emulator = await emulatorFor(t, SLOW);
  const dir = tempDir(t);
  const result = await runClosing(t, 'stderr', ['run', '--poll-interval', '0.05', '--output', 'r.md'], dir, envFor(emulator));
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Report written to: .+r\.md\nFinal status: completed\n$/);
  assert.ok(callsOf(emulator).polls >= 5, `polled ${callsOf(emulator).polls} times`);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /^\| completed \|/m);
  assert.match(report, /## Final Status/);
});

test('stdout closed at once (| true): a completed run still exits 0, with its report and no stack trace', async (t) => {
  const emulator = await emulatorFor(t, SLOW);
  const dir = tempDir(t);
  for (const extra of [[], ['--json']]) {
    const result = await runClosing(t, 'stdout', ['run', '--poll-interval', '0.05', '--output', 'r.md', ...extra], dir, envFor(emulator));
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /EPIPE|at .+\.js:\d+|node:internal/);
    assert.match(result.stderr, /reached terminal status completed/);
    assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /## Final Status/);
  }
});

test('the exit code still follows the status when stderr is closed: a failed response exits 3', async (t) => {
  const emulator = await emulatorFor(t, { ...SLOW, finalStatus: 'failed' });
  const dir = tempDir(t);
  const result = await runClosing(t, 'stderr', ['run', '--poll-interval', '0.05', '--output', 'r.md'], dir, envFor(emulator));
  assert.equal(result.code, 3, result.stdout);
  assert.match(result.stdout, /Final status: failed\n$/);
});

test('a deleted working folder is one clear line and exit 1, for policy too', async (t) => {
  const base = tempDir(t);
  for (const args of [['policy'], ['run', '--emulator']]) {
    const gone = join(base, `gone-${args[0]}`);
    mkdirSync(gone);
    const command = ['cd "$1"', 'rmdir "$1"', 'shift', 'exec "$@"'].join(' && ');
    const child = spawn('sh', ['-c', command, 'sh', gone, process.execPath, BIN, ...args], { cwd: base, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1, stderr);
    assert.equal(stderr, 'bgprobe: the working folder cannot be read (ENOENT: it was probably deleted); cd to an existing folder and run bgprobe again\n');
    assert.equal(stdout, '');
  }
});
