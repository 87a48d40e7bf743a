/**
 * What one bench run measured (raw samples, one per round) and its summary
 * (medians across rounds, ratios to direct / floor / Portkey, measured in
 * the same run).
 */
import type { ContenderName } from './contenders.js';
import { median, quantile, ratio } from './stats.js';

export interface LoadSample {
  readonly round: number;
  readonly generator: string;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly cpuUsPerRequest: number | null;
  /** Share of the contender's core that other processes used during the run. */
  readonly foreignCoreShare: number | null;
}

export interface StreamSample {
  readonly round: number;
  readonly count: number;
  readonly failures: number;
  readonly firstFailure: string | null;
  readonly firstP50Ms: number | null;
  readonly firstP99Ms: number | null;
  readonly totalP50Ms: number | null;
  readonly totalP99Ms: number | null;
  readonly maxGapP50Ms: number | null;
}

export interface ContenderRecord {
  readonly name: ContenderName;
  readonly description: string;
  readonly startupMs: readonly number[];
  rssIdleBytes: number | null;
  rssPeakBytes: number | null;
  rssAfterBytes: number | null;
  /** What the failover route's answers say about the dead target (x-pinroute-attempts). */
  attemptsHeader: string | null;
  readonly load: Record<string, LoadSample[]>;
  readonly stream: Record<string, StreamSample[]>;
}

export interface LoadSummary {
  readonly rps: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly cpuUsPerRequest: number | null;
  /** Interquartile range / median of requests/s across rounds: how much the rounds disagreed. */
  readonly spread: number | null;
  readonly foreignCoreShare: number | null;
  readonly errors: number;
  readonly generator: string;
  readonly vsDirect: number | null;
  readonly vsFloor: number | null;
  readonly vsPortkey: number | null;
  readonly addedP50MsOverDirect: number | null;
}

export interface StreamSummary {
  readonly firstP50Ms: number | null;
  readonly firstP99Ms: number | null;
  readonly totalP50Ms: number | null;
  readonly totalP99Ms: number | null;
  readonly maxGapP50Ms: number | null;
  readonly failures: number;
  readonly addedFirstP50MsOverDirect: number | null;
  readonly addedTotalP50MsOverDirect: number | null;
}

export interface ContenderSummary {
  readonly name: ContenderName;
  readonly description: string;
  readonly startupMedianMs: number | null;
  readonly startupMs: readonly number[];
  readonly rssIdleMb: number | null;
  readonly rssPeakMb: number | null;
  readonly rssAfterMb: number | null;
  readonly attemptsHeader: string | null;
  readonly load: Record<string, LoadSummary>;
  readonly stream: Record<string, StreamSummary>;
}

const MB = 1024 * 1024;
const megabytes = (bytes: number | null) => (bytes === null ? null : bytes / MB);

export function summarize(records: readonly ContenderRecord[]): ContenderSummary[] {
  const byName = new Map(records.map((record) => [record.name, record]));
  const loadMedian = (name: ContenderName, key: string, pick: (sample: LoadSample) => number | null) => {
    const samples = byName.get(name)?.load[key];
    return samples ? median(samples.map(pick)) : null;
  };
  const streamMedian = (name: ContenderName, key: string, pick: (sample: StreamSample) => number | null) => {
    const samples = byName.get(name)?.stream[key];
    return samples ? median(samples.map(pick)) : null;
  };
  return records.map((record) => {
    const load: Record<string, LoadSummary> = {};
    for (const [key, samples] of Object.entries(record.load)) {
      const rps = median(samples.map((sample) => sample.rps));
      const p50Ms = median(samples.map((sample) => sample.p50Ms));
      const directP50 = loadMedian('direct', key, (sample) => sample.p50Ms);
      load[key] = {
        rps,
        p50Ms,
        p99Ms: median(samples.map((sample) => sample.p99Ms)),
        cpuUsPerRequest: median(samples.map((sample) => sample.cpuUsPerRequest)),
        spread: spreadOf(samples.map((sample) => sample.rps)),
        foreignCoreShare: median(samples.map((sample) => sample.foreignCoreShare)),
        errors: samples.reduce((sum, sample) => sum + sample.errors, 0),
        generator: [...new Set(samples.map((sample) => sample.generator))].join('+'),
        vsDirect: ratio(rps, loadMedian('direct', key, (sample) => sample.rps)),
        vsFloor: ratio(rps, loadMedian('floor', key, (sample) => sample.rps)),
        vsPortkey: ratio(rps, loadMedian('portkey', key, (sample) => sample.rps)),
        addedP50MsOverDirect: p50Ms === null || directP50 === null ? null : p50Ms - directP50,
      };
    }
    const stream: Record<string, StreamSummary> = {};
    for (const [key, samples] of Object.entries(record.stream)) {
      const firstP50Ms = median(samples.map((sample) => sample.firstP50Ms));
      const totalP50Ms = median(samples.map((sample) => sample.totalP50Ms));
      const directFirst = streamMedian('direct', key, (sample) => sample.firstP50Ms);
      const directTotal = streamMedian('direct', key, (sample) => sample.totalP50Ms);
      stream[key] = {
        firstP50Ms,
        firstP99Ms: median(samples.map((sample) => sample.firstP99Ms)),
        totalP50Ms,
        totalP99Ms: median(samples.map((sample) => sample.totalP99Ms)),
        maxGapP50Ms: median(samples.map((sample) => sample.maxGapP50Ms)),
        failures: samples.reduce((sum, sample) => sum + sample.failures, 0),
        addedFirstP50MsOverDirect: firstP50Ms === null || directFirst === null ? null : firstP50Ms - directFirst,
        addedTotalP50MsOverDirect: totalP50Ms === null || directTotal === null ? null : totalP50Ms - directTotal,
      };
    }
    return {
      name: record.name,
      description: record.description,
      startupMedianMs: median(record.startupMs),
      startupMs: record.startupMs,
      rssIdleMb: megabytes(record.rssIdleBytes),
      rssPeakMb: megabytes(record.rssPeakBytes),
      rssAfterMb: megabytes(record.rssAfterBytes),
      attemptsHeader: record.attemptsHeader,
      load,
      stream,
    };
  });
}

function spreadOf(values: readonly number[]): number | null {
  const middle = median(values);
  const low = quantile(values, 0.25);
  const high = quantile(values, 0.75);
  return values.length < 3 || middle === null || middle === 0 || low === null || high === null ? null : (high - low) / middle;
}
