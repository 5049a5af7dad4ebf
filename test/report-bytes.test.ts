import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BIN, emulatorFor, envFor, runNodeScript, sections, tempDir } from './helpers.js';

/** Loaded into the CLI (`node --import`): at exit it copies the process's own I/O counters (Linux) to IO_FILE. */
const IO_PRELOAD = `import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.IO_FILE, readFileSync('/proc/self/io', 'utf8')));
`;

test('a long run writes a few times its report, not the report again for every event', { skip: !existsSync('/proc/self/io') && 'needs /proc/self/io (Linux)' }, async (t) => {
  const polls = 300;
  const emulator = await emulatorFor(t, { pendingPolls: polls });
  const dir = tempDir(t);
  const preload = join(dir, 'io-preload.mjs');
  writeFileSync(preload, IO_PRELOAD);
  const ioFile = join(dir, 'io.txt');
  const result = await runNodeScript(
    BIN,
    ['run', '--quiet', '--poll-interval', '0.01', '--output', 'r.md'],
    { cwd: dir, env: { ...envFor(emulator), IO_FILE: ioFile }, timeoutMs: 120_000 },
    ['--import', pathToFileURL(preload).href],
  );
  assert.equal(result.code, 0, result.stderr);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.deepEqual(sections(report).at(-1), 'Final Response Payload');
  const reportBytes = statSync(join(dir, 'r.md')).size;
  // Everything the process wrote: the report, its requests (about 250 bytes a poll) and two stdout lines.
  const written = Number(/^wchar: (\d+)$/m.exec(readFileSync(ioFile, 'utf8'))?.[1]);
  assert.ok(written > reportBytes, `wchar ${written}`);
  // A report rewritten per event would write about polls × its mean size (over 10 MB here).
  assert.ok(written <= 5 * reportBytes, `${written} bytes written for a report of ${reportBytes} bytes after ${polls + 1} polls`);
});
