import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runNodeScript, tempDir } from './helpers.js';

/**
 * What `npm pack` makes is what `npm install -g ./bgprobe-0.1.0.tgz` installs (README, Install).
 * The install itself fetches the three dependencies from the registry, so the test stops short
 * of it: it unpacks the tarball where no node_modules exists and runs the command from there,
 * which shows the packed command needs nothing beside itself. Offline, a few seconds.
 */
test('the packed tarball holds a command that runs on its own: --version and run --emulator', async (t) => {
  const dir = tempDir(t);
  // The build is already there (npm test builds first); --ignore-scripts skips building it again.
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  assert.equal(tarball, 'bgprobe-0.1.0.tgz', 'the name the README installs');
  execFileSync('tar', ['xzf', tarball, '-C', dir], { cwd: dir });
  const command = join(dir, 'package', 'build', 'bgprobe.cjs');

  const version = await runNodeScript(command, ['--version'], { cwd: dir });
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^bgprobe\/0\.1\.0 /);

  const run = await runNodeScript(command, ['run', '--emulator', '--poll-interval', '0.2', '--output', 'r.md'], { cwd: dir, timeoutMs: 60_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `Report written to: ${join(dir, 'r.md')}\nFinal status: completed\n`);
});
