import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Redactor } from '../src/redact.js';
import { RunReport } from '../src/report/report.js';
import { callsOf, emulatorFor, envFor, runCli, runMain, sections, startCli, tempDir } from './helpers.js';

const REPORT_SECTIONS = ['Run Configuration', 'Prompt Used', 'Event Log', 'Outbound Requests', 'Final Status', 'Final Model Output', 'Final Response Payload'];

/** A pid that belonged to a process which has ended: what a killed run leaves in its lock and temporary files. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(child.pid);
  return child.pid;
}

/**
 * A character device of our own (mknod, as root) standing for /dev/null or /dev/full, so that
 * a bug that replaced the output could never replace the machine's own device.
 */
function deviceNode(t: TestContext, dir: string, name: string, minor: number): string | undefined {
  const path = join(dir, name);
  const made = spawnSync('mknod', [path, 'c', '1', String(minor)]);
  if (made.status !== 0) {
    t.skip(`mknod is not permitted here: ${made.stderr?.toString().trim() || made.error?.message}`);
    return undefined;
  }
  return path;
}

test('--output on a character device writes the report to it as it is, never replacing it', async (t) => {
  const emulator = await emulatorFor(t, { pendingPolls: 1 });
  const dir = tempDir(t);
  const device = deviceNode(t, dir, 'null', 3);
  if (!device) return;
  const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', device], envFor(emulator), dir);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^Report written to: ${device}\nFinal status: completed\n$`));
  assert.ok(statSync(device).isCharacterDevice(), 'still the device');
  assert.deepEqual(readdirSync(dir), ['null'], 'no lock, no temporary file beside it');
});

test('a device that is full (ENOSPC) ends the run with exit 1 and the id on stderr, never "Report written to"', async (t) => {
  const emulator = await emulatorFor(t, { pendingPolls: 1 });
  const dir = tempDir(t);
  const device = deviceNode(t, dir, 'full', 7);
  if (!device) return;
  const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', device], envFor(emulator), dir);
  assert.equal(result.code, 1, result.stderr);
  const id = emulator.requests.find((r) => r.method === 'GET')!.path.split('/').at(-1)!;
  assert.match(result.stderr, new RegExp(`^bgprobe: the report "${device}" cannot be written \\(ENOSPC: no space left on the device\\).*; response ${id} ended with status completed: see it again with "bgprobe poll ${id}( [^"]*)?"\n$`));
  assert.doesNotMatch(result.stdout, /Report written to/);
  assert.ok(statSync(device).isCharacterDevice());
});

test('--output on a FIFO sends the complete report to its reader; with no reader it is refused before anything is sent', async (t) => {
  const emulator = await emulatorFor(t, { pendingPolls: 1 });
  const dir = tempDir(t);
  const fifo = join(dir, 'report.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);

  const lonely = await runMain(['run', '--poll-interval', '0.05', '--output', fifo], envFor(emulator), dir);
  assert.equal(lonely.code, 1);
  assert.match(lonely.stderr, /^bgprobe: the report ".*report\.fifo" cannot be written \(ENXIO: a FIFO with no reader/);
  assert.equal(emulator.requests.length, 0, 'nothing sent');

  // The reader: this process holds both ends open without blocking, so it sees the end only once the CLI is done and it lets go.
  const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const holdOpen = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const reader = new Socket({ fd: readEnd, readable: true, writable: false });
  t.after(() => reader.destroy());
  let received = '';
  reader.setEncoding('utf8').on('data', (d: string) => (received += d));
  const ended = new Promise((resolve) => reader.on('end', resolve));
  const result = await runCli(['run', '--quiet', '--poll-interval', '0.05', '--output', fifo], { cwd: dir, env: envFor(emulator) });
  closeSync(holdOpen);
  await ended;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Report written to: .*report\.fifo\nFinal status: completed\n$/);
  assert.deepEqual(sections(received), REPORT_SECTIONS, 'the complete report, once');
  assert.ok(statSync(fifo).isFIFO(), 'still the FIFO');
});

test('a symlink given as --output is followed: the link stays, its target gets the report', async (t) => {
  const emulator = await emulatorFor(t, { pendingPolls: 1 });
  const dir = tempDir(t);
  mkdirSync(join(dir, 'kept'));
  symlinkSync(join('kept', 'real.md'), join(dir, 'link.md'));
  for (const round of ['target missing', 'target there']) {
    const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', 'link.md'], envFor(emulator), dir);
    assert.equal(result.code, 0, `${round}: ${result.stderr}`);
    assert.ok(lstatSync(join(dir, 'link.md')).isSymbolicLink(), `${round}: the link is still a link`);
    assert.equal(readlinkSync(join(dir, 'link.md')), join('kept', 'real.md'));
    assert.deepEqual(sections(readFileSync(join(dir, 'kept', 'real.md'), 'utf8')), REPORT_SECTIONS, round);
    assert.deepEqual(readdirSync(join(dir, 'kept')), ['real.md'], `${round}: no lock or temporary file left`);
  }
});

test('a second run on a report another live run is writing is refused before it sends anything, naming that run', async (t) => {
  const emulator = await emulatorFor(t, { neverFinish: true });
  const dir = tempDir(t);
  const first = runMain(['run', '--quiet', '--poll-interval', '0.05', '--max-wait', '3', '--output', 'same.md'], envFor(emulator), dir);
  for (let i = 0; i < 500 && !(existsSync(join(dir, 'same.md')) && readFileSync(join(dir, 'same.md'), 'utf8').includes('Poll 1:')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const requestsBefore = emulator.requests.length;
  const second = await runMain(['run', '--poll-interval', '0.05', '--output', 'same.md'], envFor(emulator), dir);
  assert.equal(second.code, 1);
  assert.match(
    second.stderr,
    new RegExp(`^bgprobe: the report ".*same\\.md" is being written by another bgprobe run \\(pid ${process.pid}, since \\S+: bgprobe run --quiet --poll-interval 0\\.05 --max-wait 3 --output same\\.md\\); wait for it to end or choose another --output`),
  );
  assert.equal(emulator.requests.filter((r) => r.method === 'POST').length, 1, 'the second run sent no create');
  assert.ok(emulator.requests.length >= requestsBefore);
  // The first run is untouched: it ends at its --max-wait with its own complete report.
  const firstResult = await first;
  assert.equal(firstResult.code, 4, firstResult.stderr);
  assert.match(firstResult.stdout, /Report written to: .*same\.md/);
  assert.deepEqual(sections(readFileSync(join(dir, 'same.md'), 'utf8')), REPORT_SECTIONS);
  assert.deepEqual(readdirSync(dir), ['same.md'], 'the lock is gone with the run');
});

test('a lock and a temporary file left by a killed run are taken over and cleaned up', async (t) => {
  const emulator = await emulatorFor(t, { pendingPolls: 1 });
  const dir = tempDir(t);
  const pid = deadPid();
  writeFileSync(join(dir, 'r.md.lock'), `${JSON.stringify({ pid, host: hostname(), since: '2026-01-01T00:00:00.000Z', command: 'bgprobe run' })}\n`);
  writeFileSync(join(dir, `r.md.${pid}.tmp`), '# half a report');
  writeFileSync(join(dir, 'r.md.999999999.tmp.keep'), 'not ours to remove');
  const result = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', 'r.md'], envFor(emulator), dir);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['r.md', 'r.md.999999999.tmp.keep']);
  assert.equal(callsOf(emulator).creates, 1);
});

test('kill -9 during the final write leaves the live log whole; the next run on that path cleans up what it left', async (t) => {
  // A 10 MB answer makes the final write last long enough to be caught while its temporary file exists.
  const emulator = await emulatorFor(t, { pendingPolls: 1, outputText: `${'ten megabytes of answer '.repeat(420_000)}end` });
  const dir = tempDir(t);
  const cli = startCli(['run', '--poll-interval', '0.05', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  t.after(() => cli.child.kill('SIGKILL'));
  // The live log's first part goes through a temporary file too: the final one is the one made after the last event.
  const ended = () => existsSync(join(dir, 'r.md')) && readFileSync(join(dir, 'r.md'), 'utf8').includes('reached terminal status');
  const watcher = watch(dir, (_event, name) => {
    if (name?.endsWith('.tmp') && existsSync(join(dir, name)) && ended()) cli.child.kill('SIGKILL');
  });
  t.after(() => watcher.close());
  const killed = await cli.done;
  watcher.close();
  assert.equal(killed.signal, 'SIGKILL', `the run ended before its final write was caught: ${killed.stdout}`);
  const id = /Created response (resp_\w+)/.exec(killed.stderr)![1]!;
  const log = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(log, new RegExp(`- Response id: \`${id}\``));
  assert.match(log, /reached terminal status completed\n$/, 'every event, up to the last');
  assert.deepEqual(readdirSync(dir).sort(), ['r.md', `r.md.${cli.child.pid}.tmp`, 'r.md.lock'].sort());

  const next = await runMain(['run', '--quiet', '--poll-interval', '0.05', '--output', 'r.md'], envFor(emulator), dir);
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(readdirSync(dir), ['r.md'], 'the stray temporary file and the dead run\'s lock are gone');
});

test('a held report writes nothing until released, then its live log with every line gathered meanwhile', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'held.md');
  const header = { title: 'T Report', configuration: [] as [string, string][], prompt: [] };
  const unknown = RunReport.openHeld(path, header, new Redactor());
  unknown.addEvent({ time: new Date(0), level: 'INFO', message: 'attaching' });
  assert.deepEqual(readdirSync(dir), ['held.md.lock'], 'only the lock: a second run on this path is refused meanwhile');
  unknown.finish({ status: [], summary: { status: 'x', elapsedSeconds: 0, polls: 0, usage: undefined }, outputText: undefined, noOutputNote: '', payload: undefined });
  assert.deepEqual(readdirSync(dir), [], 'never released: no report, no lock');
  assert.equal(unknown.complete, false);

  const known = RunReport.openHeld(path, header, new Redactor());
  known.setResponseId('resp_1');
  known.addEvent({ time: new Date(0), level: 'INFO', message: 'attaching' });
  known.release();
  known.addEvent({ time: new Date(1000), level: 'INFO', message: 'Poll 1' });
  assert.match(readFileSync(path, 'utf8'), /## Event Log\n\n- Response id: `resp_1`\n- 1970-01-01T00:00:00\.000Z \[INFO\] attaching\n- 1970-01-01T00:00:01\.000Z \[INFO\] Poll 1\n$/);
  known.close();
});
