/**
 * Resident memory of a gateway process, read from /proc/<pid>/status (VmRSS),
 * with the JS heap in use from its /metrics for context.
 */
import { readFile } from 'node:fs/promises';

export async function residentBytes(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export function heapUsedBytes(metricsText: string): number | null {
  const match = /^pinroute_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/m.exec(metricsText);
  return match ? Number(match[1]) : null;
}

/** Samples a process's RSS every `everyMs` and keeps the peak. */
export class RssSampler {
  peak = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pid: () => number | undefined) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      void residentBytes(this.pid()).then((bytes) => {
        if (bytes !== null && bytes > this.peak) this.peak = bytes;
      });
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export const mib = (bytes: number | null): string => (bytes === null ? '?' : `${(bytes / 1048576).toFixed(1)} MiB`);
