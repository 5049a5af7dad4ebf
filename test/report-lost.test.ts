import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { emulatorFor, envFor, runMain, tempDir } from './helpers.js';

/** Waits until the report mentions `text`, so the folder goes away mid-run, after the id is known. */
async function waitForReport(path: string, text: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(path) && readFileSync(path, 'utf8').includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the report never mentioned ${text}`);
}

for (const json of [false, true]) {
  test(`a report that can no longer be written mid-run still leaves the id and the resume command${json ? ' (--json)' : ''}`, async (t) => {
    const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true });
    const dir = tempDir(t);
    const report = join(dir, 'out', 'r.md');
    const args = ['run', '--quiet', '--poll-interval', '0.05', '--max-wait', '5', '--output', report, ...(json ? ['--json'] : [])];
    const running = runMain(args, envFor(emulator), dir);
    await waitForReport(report, 'Poll 1:');
    rmSync(join(dir, 'out'), { recursive: true, force: true });
    const result = await running;
    assert.equal(result.code, 1, result.stderr);
    const id = emulator.requests.find((r) => r.method === 'GET')!.path.split('/').at(-1)!;
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, new RegExp(`^bgprobe: the report .* cannot be written .*; response ${id} may still be running: resume with "bgprobe poll ${id} --base-url [^"]+"`));
    if (json) {
      const summary = JSON.parse(result.stdout) as { id: string; exit_code: number };
      assert.equal(summary.id, id);
      assert.equal(summary.exit_code, 1);
    } else {
      assert.doesNotMatch(result.stdout, /Report written to/, 'no claim that the report was written');
    }
  });
}
