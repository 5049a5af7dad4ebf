/**
 * Preloaded into each measured process (`node --import`): at exit it writes its own CPU time
 * and peak RSS (getrusage), and on Linux the bytes it passed to write() (`wchar` of
 * /proc/self/io), to the file named by BGPROBE_BENCH_RUSAGE. Nothing else changes.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Usage {
  readonly cpuMs: number;
  readonly maxRssMb: number;
  /** Bytes written by the process (files, sockets, pipes alike); absent off Linux. */
  readonly writtenBytes?: number;
}

function writtenBytes(): number | undefined {
  try {
    const wchar = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1];
    return wchar === undefined ? undefined : Number(wchar);
  } catch {
    return undefined;
  }
}

const file = process.env['BGPROBE_BENCH_RUSAGE'];
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    const result: Usage = { cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssMb: usage.maxRSS / 1024, writtenBytes: writtenBytes() };
    writeFileSync(file, JSON.stringify(result));
  });
}
