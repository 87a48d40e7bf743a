/**
 * What a contender process costs, read from /proc (Linux): CPU time
 * (utime + stime of all its threads) and resident memory. Elsewhere every
 * reading is null and the report says n/a.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = ((): number => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** CPU time used so far by `pid`, in microseconds; null when /proc cannot tell. */
export function cpuMicros(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces, hence lastIndexOf): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND : null;
}

/** Resident set size of `pid` in bytes; null when /proc cannot tell. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples the RSS of `pid` every `intervalMs` until stopped; returns the peak seen. */
export function sampleRss(pid: number, intervalMs = 50): { stop: () => number | null } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    const now = rssBytes(pid);
    if (now !== null && (peak === null || now > peak)) peak = now;
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      const now = rssBytes(pid);
      return now !== null && (peak === null || now > peak) ? now : peak;
    },
  };
}

/** Busy time (everything but idle and iowait) of one core since boot, in microseconds; null when /proc cannot tell. */
export function coreBusyMicros(core: number): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith(`cpu${core} `));
    if (!line) return null;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return ((total - idle) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * Watches one load run: the contender's CPU time, its peak RSS, and how much
 * of the contender's core went to other processes meanwhile (this machine is
 * shared; that share says how far to trust the run).
 */
export function watchRun(pid: number, core: number | null): { stop: (requests: number) => RunCost } {
  const startedAt = performance.now();
  const cpuBefore = cpuMicros(pid);
  const coreBefore = core === null ? null : coreBusyMicros(core);
  const rss = sampleRss(pid);
  return {
    stop: (requests) => {
      const wallUs = (performance.now() - startedAt) * 1000;
      const cpuAfter = cpuMicros(pid);
      const coreAfter = core === null ? null : coreBusyMicros(core);
      const cpuUs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      const foreignUs = cpuUs === null || coreBefore === null || coreAfter === null ? null : Math.max(0, coreAfter - coreBefore - cpuUs);
      return {
        cpuUsPerRequest: cpuUs === null || requests === 0 ? null : cpuUs / requests,
        foreignCoreShare: foreignUs === null || wallUs === 0 ? null : Math.min(1, foreignUs / wallUs),
        peakRssBytes: rss.stop(),
      };
    },
  };
}

export interface RunCost {
  readonly cpuUsPerRequest: number | null;
  /** Share of the contender's core used by other processes during the run (0..1). */
  readonly foreignCoreShare: number | null;
  readonly peakRssBytes: number | null;
}
