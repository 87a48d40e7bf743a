/**
 * `pinroute verify`: probe every target once, now, and print pin vs observed
 * revision per target; exit 1 on any mismatch or unreachable backend. Meant for
 * CI pipelines: "do our pins still hold?". Sends no completion.
 */
import type { Environment } from '../config/interpolate.js';
import { loadConfigFile } from '../config/load.js';
import { ConfigInvalid, formatProblem } from '../config/problems.js';
import type { CompiledTarget, RoutingTable } from '../config/table.js';
import { probeBackend, type BackendProbe } from '../health/probe.js';
import { colourEnabled, shortenHashes, type Colour } from './terminal.js';
import { renderTable, type Column } from './text-table.js';

export interface TargetVerification {
  readonly route: string;
  readonly index: number;
  readonly backend: string;
  readonly type: string;
  readonly model: string;
  readonly pinned: string;
  readonly observed: string | null;
  readonly status: 'verified' | 'mismatch' | 'unverified' | 'unreachable';
  readonly detail: string;
  readonly latency_ms: number;
}

export async function runVerify(configFile: string, env: Environment, json: boolean): Promise<number> {
  let table: RoutingTable;
  try {
    table = (await loadConfigFile(configFile, env)).table;
  } catch (error) {
    if (!(error instanceof ConfigInvalid)) throw error;
    for (const problem of error.problems.filter((p) => p.severity === 'error')) process.stderr.write(`error: ${formatProblem(problem)}\n`);
    return 1;
  }
  const results = await verifyTable(table);
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else process.stdout.write(`${renderVerification(results, colourEnabled(env, process.stdout.isTTY === true)).join('\n')}\n`);
  const failed = results.filter((result) => result.status === 'mismatch' || result.status === 'unreachable');
  if (!json) {
    process.stdout.write(
      failed.length === 0
        ? `\nall pins hold (${results.length} target(s); unverified ones expose nothing to check, or are checked on every answer)\n`
        : `\n${failed.length} of ${results.length} target(s) failed: ${failed.map((result) => `${result.route}/${result.backend} ${result.status}`).join(', ')}\n`,
    );
  }
  return failed.length === 0 ? 0 : 1;
}

export async function verifyTable(table: RoutingTable): Promise<TargetVerification[]> {
  const byBackend = new Map<string, CompiledTarget[]>();
  for (const targets of table.targetsByStateKey.values()) {
    const target = targets[0];
    if (target) byBackend.set(target.backend.name, [...(byBackend.get(target.backend.name) ?? []), target]);
  }
  const probes = new Map<string, BackendProbe>();
  await Promise.all(
    [...byBackend].map(async ([name, targets]) => {
      const backend = table.backends.get(name);
      if (backend) probes.set(name, await probeBackend(backend, targets));
    }),
  );
  return table.routeNames.flatMap((name) =>
    (table.routes.get(name)?.targets ?? []).map((target) => describeTarget(target, probes.get(target.backend.name))),
  );
}

function describeTarget(target: CompiledTarget, probe: BackendProbe | undefined): TargetVerification {
  const base = {
    route: target.route,
    index: target.index,
    backend: target.backend.name,
    type: target.backend.type,
    model: target.model,
    pinned: target.revision,
    latency_ms: probe?.latencyMs ?? 0,
  };
  if (!probe || !probe.up) return { ...base, observed: null, status: 'unreachable', detail: probe?.error ?? 'not probed' };
  const verdict = probe.revisions.get(target.stateKey);
  if (!verdict) return { ...base, observed: null, status: 'unverified', detail: 'reachable; the served revision is checked on every answer' };
  return { ...base, observed: verdict.observed, status: verdict.status, detail: verdict.detail };
}

const COLUMNS: readonly Column[] = [
  { header: 'route' },
  { header: '#', align: 'right' },
  { header: 'backend' },
  { header: 'type' },
  { header: 'model', maxWidth: 40 },
  { header: 'pinned', maxWidth: 24 },
  { header: 'observed', maxWidth: 24 },
  { header: 'status' },
  { header: 'detail', truncate: 'end', fill: true },
];

const STATUS_COLOUR: Record<TargetVerification['status'], Colour> = { verified: 'green', unverified: 'yellow', mismatch: 'red', unreachable: 'red' };

function renderVerification(results: readonly TargetVerification[], colour: boolean): string[] {
  return renderTable(
    COLUMNS,
    results.map((result) => [
      { text: result.route },
      { text: String(result.index) },
      { text: result.backend },
      { text: result.type },
      { text: shortenHashes(result.model) },
      { text: shortenHashes(result.pinned) },
      { text: result.observed === null ? '-' : shortenHashes(result.observed) },
      { text: result.status, colour: STATUS_COLOUR[result.status] },
      { text: result.detail },
    ]),
    { colour, ...(process.stdout.isTTY && process.stdout.columns ? { maxLineWidth: process.stdout.columns } : {}) },
  );
}
