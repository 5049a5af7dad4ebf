/**
 * Preloaded into each measured process (`node --import`): at exit it writes its own CPU time
 * and peak RSS (getrusage) to the file named by BGPROBE_BENCH_RUSAGE. Nothing else changes.
 */
import { writeFileSync } from 'node:fs';

export interface Usage {
  readonly cpuMs: number;
  readonly maxRssMb: number;
}

const file = process.env['BGPROBE_BENCH_RUSAGE'];
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    const result: Usage = { cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssMb: usage.maxRSS / 1024 };
    writeFileSync(file, JSON.stringify(result));
  });
}
