/**
 * The printed tables and the JSON file in bench/results/. Ratios are to
 * direct, to the floor and to Portkey, all measured in the same run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContenderSummary } from './results.js';
import { median, ratio } from './stats.js';

export interface RunMeta {
  readonly mode: string;
  readonly startedAt: string;
  readonly elapsedS: number;
  readonly rounds: number;
  readonly loadSeconds: number;
  readonly generator: string;
  readonly pinning: string;
  readonly node: string;
  readonly cpu: string;
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  readonly notes: readonly string[];
}

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export async function writeJson(meta: RunMeta, summary: readonly ContenderSummary[], raw: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${meta.startedAt.replace(/[:.]/g, '-')}-${meta.mode}.json`);
  await writeFile(file, `${JSON.stringify({ meta, summary, raw }, null, 2)}\n`);
  return file;
}

const fixed = (value: number | null, digits: number) => (value === null ? 'n/a' : value.toFixed(digits));
const thousands = (value: number | null) => (value === null ? 'n/a' : Math.round(value).toLocaleString('en-US'));
const times = (value: number | null) => (value === null ? '-' : value >= 10 ? `${value.toFixed(0)}×` : `${value.toFixed(2)}×`);
const signed = (value: number | null, digits: number) => (value === null ? 'n/a' : `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`);
const percent = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(0)}%`);
const pair = (a: number | null, b: number | null, digits: number) => `${fixed(a, digits)} / ${fixed(b, digits)}`;

function table(title: string, header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  return [title, line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export function render(meta: RunMeta, summary: readonly ContenderSummary[], concurrencies: readonly number[], extraLoadKeys: readonly string[]): string {
  const out: string[] = [];
  out.push(
    `pinroute bench (${meta.mode}): ${meta.rounds} interleaved rounds, ${meta.loadSeconds}s per load run, generator ${meta.generator}; ${meta.pinning}`,
    `node ${meta.node}, ${meta.cpu}; load average ${meta.loadAverage.before.map((value) => value.toFixed(2)).join(' ')} before, ${meta.loadAverage.after.map((value) => value.toFixed(2)).join(' ')} after; ${meta.elapsedS.toFixed(0)} s`,
    ...meta.notes.map((note) => `note: ${note}`),
    '',
  );
  const jsonKey = (connections: number) => `json c=${connections}`;
  const ratioKey = jsonKey(32);
  out.push(
    table(
      `Throughput, non-streamed JSON (requests/s, median of rounds; ratios at c=32; CPU = the contender's process per request;\n` +
        `spread = interquartile range / median across rounds; other work = share of the contender's core used by other processes meanwhile)`,
      ['contender', ...concurrencies.map((c) => `c=${c}`), '×direct', '×floor', '×portkey', 'CPU µs/req c=32', 'spread c=32', 'other work on core', 'errors', 'generator'],
      summary.map((row) => {
        const at32 = row.load[ratioKey];
        const errors = Object.values(row.load).reduce((sum, load) => sum + load.errors, 0);
        const generators = [...new Set(Object.values(row.load).map((load) => load.generator))].join(',');
        const foreign = median(Object.values(row.load).map((load) => load.foreignCoreShare));
        return [
          row.name,
          ...concurrencies.map((c) => thousands(row.load[jsonKey(c)]?.rps ?? null)),
          times(at32?.vsDirect ?? null),
          times(at32?.vsFloor ?? null),
          times(at32?.vsPortkey ?? null),
          fixed(at32?.cpuUsPerRequest ?? null, 0),
          percent(at32?.spread ?? null),
          percent(foreign),
          String(errors),
          generators,
        ];
      }),
    ),
    '',
    table(
      'Latency, non-streamed JSON (ms, p50 / p99)',
      ['contender', ...concurrencies.map((c) => `c=${c}`), 'added p50 c=1 vs direct'],
      summary.map((row) => [row.name, ...concurrencies.map((c) => pair(row.load[jsonKey(c)]?.p50Ms ?? null, row.load[jsonKey(c)]?.p99Ms ?? null, 2)), signed(row.load[jsonKey(1)]?.addedP50MsOverDirect ?? null, 3)]),
    ),
    '',
  );
  for (const key of extraLoadKeys) {
    out.push(
      table(
        `Under load: ${key} (SSE burst of 20 events)`,
        ['contender', 'requests/s', 'p50 / p99 ms', '×direct', '×floor', '×portkey', 'CPU µs/req', 'errors'],
        summary.map((row) => {
          const load = row.load[key];
          return [row.name, thousands(load?.rps ?? null), pair(load?.p50Ms ?? null, load?.p99Ms ?? null, 2), times(load?.vsDirect ?? null), times(load?.vsFloor ?? null), times(load?.vsPortkey ?? null), fixed(load?.cpuUsPerRequest ?? null, 0), String(load?.errors ?? 0)];
        }),
      ),
      '',
    );
  }
  out.push(
    table(
      'Streaming at c=1 (ms, p50 / p99): first event, whole stream; paced = 20 events 5 ms apart',
      ['contender', 'burst first', 'burst total', 'added first vs direct', 'paced first', 'paced total', 'paced max gap p50', 'failures'],
      summary.map((row) => {
        const burst = row.stream['burst'];
        const paced = row.stream['paced'];
        return [
          row.name,
          pair(burst?.firstP50Ms ?? null, burst?.firstP99Ms ?? null, 3),
          pair(burst?.totalP50Ms ?? null, burst?.totalP99Ms ?? null, 3),
          signed(burst?.addedFirstP50MsOverDirect ?? null, 3),
          pair(paced?.firstP50Ms ?? null, paced?.firstP99Ms ?? null, 2),
          pair(paced?.totalP50Ms ?? null, paced?.totalP99Ms ?? null, 1),
          fixed(paced?.maxGapP50Ms ?? null, 1),
          String((burst?.failures ?? 0) + (paced?.failures ?? 0)),
        ];
      }),
    ),
    '',
    table(
      'Process: startup (spawn to first 200), RSS idle / peak under load / after the run',
      ['contender', 'startup ms (median)', 'startup samples', 'RSS idle MB', 'RSS load MB', 'RSS after MB'],
      summary.map((row) => [row.name, fixed(row.startupMedianMs, 0), row.startupMs.map((ms) => ms.toFixed(0)).join(' ') || '-', fixed(row.rssIdleMb, 1), fixed(row.rssPeakMb, 1), fixed(row.rssAfterMb, 1)]),
    ),
  );
  const failover = summary.find((row) => row.name === 'pinroute-failover');
  if (failover?.attemptsHeader) out.push('', `pinroute-failover answers during the measured phase carry x-pinroute-attempts: ${failover.attemptsHeader}`);
  out.push('', targetChecks(summary));
  return out.join('\n');
}

/** The lead's targets for pinroute, side by side with what this run measured. Informational: nothing fails on them. */
function targetChecks(summary: readonly ContenderSummary[]): string {
  const pinroute = summary.find((row) => row.name === 'pinroute');
  const failover = summary.find((row) => row.name === 'pinroute-failover');
  if (!pinroute) return '';
  const at32 = pinroute.load['json c=32'];
  const variant = summary.find((row) => row.name === 'pinroute-b');
  const rows: [string, string, number | null, (value: number) => boolean][] = [
    ['throughput c=32 vs floor', '≥ 1.0× (stretch 1.2×)', at32?.vsFloor ?? null, (value) => value >= 1.0],
    ['throughput c=32 vs Portkey', '≥ 8×', at32?.vsPortkey ?? null, (value) => value >= 8],
    ['added p50 over direct, c=1 (ms)', '≤ 0.3', pinroute.load['json c=1']?.addedP50MsOverDirect ?? null, (value) => value <= 0.3],
    ['streaming first event, added over direct (ms)', '≤ 0.4', pinroute.stream['burst']?.addedFirstP50MsOverDirect ?? null, (value) => value <= 0.4],
    ['streaming first event, absolute p50 (ms)', '≤ 0.4', pinroute.stream['burst']?.firstP50Ms ?? null, (value) => value <= 0.4],
    ['dead-primary route vs single target, c=32', '≥ 0.9×', failover && at32 ? ratio(failover.load['json c=32']?.rps ?? null, at32.rps) : null, (value) => value >= 0.9],
    ['RSS under load (MB)', '≤ 130', pinroute.rssPeakMb, (value) => value <= 130],
    ['startup to first 200 (ms)', '≤ 500', pinroute.startupMedianMs, (value) => value <= 500],
  ];
  if (variant) {
    rows.push(
      ['pinroute-b vs pinroute, throughput c=32', '> 1× is better', ratio(variant.load['json c=32']?.rps ?? null, at32?.rps ?? null), (value) => value > 1],
      ['pinroute-b vs pinroute, CPU µs/req c=32', '< 1× is better', ratio(variant.load['json c=32']?.cpuUsPerRequest ?? null, at32?.cpuUsPerRequest ?? null), (value) => value < 1],
    );
  }
  return table(
    "The lead's targets for pinroute (informational; the bench never fails on them)",
    ['target', 'wanted', 'measured', 'met'],
    rows.map(([name, wanted, value, met]) => [name, wanted, value === null ? 'n/a' : value.toFixed(value >= 100 ? 0 : 2), value === null ? '?' : met(value) ? 'yes' : 'NO']),
  );
}
