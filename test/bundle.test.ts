import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bundle } from '../scripts/bundle.js';
import { VERSION } from '../src/version.js';
import { emulatorFor, runNodeScript, sections, tempDir, TEST_KEY } from './helpers.js';

test('the single-file bundle runs from a bare folder, without node_modules', async (t) => {
  const dir = tempDir(t);
  // Built the same way as `npm run bundle`, straight into a folder with nothing else in it.
  const file = await bundle(join(dir, 'bgprobe.mjs'));
  assert.ok(!existsSync(join(dir, 'node_modules')));

  const version = await runNodeScript(file, ['--version'], { cwd: dir });
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`bgprobe/${VERSION.replace(/\./g, '\\.')}\\b`));

  const emulator = await emulatorFor(t, { queuedMs: 50, inProgressMs: 150 });
  const result = await runNodeScript(file, ['run', '--poll-interval', '0.05', '--output', 'report.md', '--prompt', 'Bundled?'], {
    cwd: dir,
    env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: emulator.baseUrl },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split('\n').slice(-2), [`Report written to: ${join(dir, 'report.md')}`, 'Final status: completed']);
  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.equal(sections(report).at(-1), 'Final Response Payload');
  assert.match(report, /You asked: "Bundled\?"/);
  assert.equal(emulator.connections, 1);
  assert.ok(!`${result.stdout}${result.stderr}${report}`.includes(TEST_KEY));
});
