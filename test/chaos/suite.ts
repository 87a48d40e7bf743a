/**
 * One chaos run: start the fleet, warm it up, read RSS, run the steady load
 * through every fault in turn (each followed by recovery and a calm gap), soak,
 * stop the load, read RSS again, then fuzz a separate gateway. Returns the
 * report; every child process is stopped whatever happens.
 */
import { sleep } from '../support/wait.js';
import { check, faultsFor, type Check, type Fault, type FaultContext } from './faults.js';
import { Fleet, LONG_STREAM_CHUNKS, STREAM_CHUNKS } from './fleet.js';
import { fuzzConfigCheck, fuzzConfigParse, fuzzHotReload } from './fuzz-config.js';
import { fuzzBodies, fuzzHeaders, type FuzzOutcome } from './fuzz-http.js';
import { FuzzTarget, UPSTREAM_CONTENT } from './fuzz-target.js';
import { LoadGenerator, type RequestRecord } from './load.js';
import { heapUsedBytes, mib, residentBytes, RssSampler } from './memory.js';
import type { ChaosProfile } from './profile.js';
import type { ChaosReport, FaultRow, Figure } from './report.js';

export interface ChaosOptions {
  readonly seed: number;
  readonly log: (line: string) => void;
}

/**
 * RSS after the load may exceed the idle baseline by this much and still count
 * as "back to baseline". V8 keeps pages it grew under load (new-space semispaces
 * grow to 16 MiB each, old space keeps fragmented pages until a memory-reducing
 * GC, which an idle process runs only eventually), so RSS does not return to the
 * byte: measured here, a gateway idling at ~95 MiB plateaus 25-35 MiB higher and
 * stays flat from 5,000 to 11,000 requests. A leak of the kind chaos provokes
 * (a record, socket or timer kept per request or per fault) grows with the count
 * instead: a full run sends ~35,000 requests, so about 1.5 KiB kept per request
 * (less than one kept socket or body buffer) is past this bound; the short form,
 * with ~4,000 requests, only catches leaks ten times that size.
 */
export function rssToleranceBytes(baselineBytes: number): number {
  return Math.max(48 * 1048576, baselineBytes * 0.5);
}

const CALM = 'calm';

export async function runChaos(profile: ChaosProfile, options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const { log } = options;
  let fleet: Fleet | null = null;
  let fuzzTarget: FuzzTarget | null = null;
  try {
    log(`starting redis, 2 upstreams, 2 gateways (${profile.name} form, seed ${options.seed})`);
    fleet = await Fleet.start(profile);
    const fleetNow = fleet;
    const load = new LoadGenerator(
      fleet.balancer,
      {
        totalMs: profile.timeouts.total_ms,
        slackMs: 500,
        streamChunks: STREAM_CHUNKS,
        longStreamChunks: LONG_STREAM_CHUNKS,
        streamBodyBudgetMs: profile.timeouts.idle_ms * 2 + 2000,
        content: UPSTREAM_CONTENT,
      },
      { ...profile.load, seed: options.seed },
    );
    // Replica A runs from start to end; it is the one whose memory is followed.
    const watched = fleet.replica('A').process;

    log(`warm-up ${profile.warmupMs} ms`);
    load.start();
    await sleep(profile.warmupMs);
    await load.stop();
    await sleep(1000);
    const baseline = await residentBytes(watched.pid);
    const baselineHeap = heapUsedBytes(await fleet.metrics(fleet.replica('A')));
    const sampler = new RssSampler(() => watched.pid);
    sampler.start(250);

    load.start();
    await sleep(profile.faultMs / 2);
    const faultRows: FaultRow[] = [];
    const faults = faultsFor();
    for (const fault of faults) {
      if (Date.now() - started > profile.budgetMs * 0.75) {
        faultRows.push(notRun(fault));
        continue;
      }
      log(`fault: ${fault.name}`);
      faultRows.push(await runFault(fault, { fleet: fleetNow, load, profile, log }));
      await sleep(Math.min(2000, profile.faultMs / 3));
    }
    log(`soak ${profile.soakMs} ms`);
    await sleep(profile.soakMs);
    await load.stop();
    sampler.stop();
    const settleMs = profile.name === 'full' ? 5000 : 2000;
    await sleep(settleMs);
    const after = await residentBytes(watched.pid);
    const afterHeap = heapUsedBytes(await fleet.metrics(fleet.replica('A')));

    const calmRow = summarise({ name: 'none (steady load between faults)', strikes: '-', expectation: 'no failure' }, load.records.filter((record) => record.phase === CALM), 'n/a', [], 0);
    const calmRecords = load.records.filter((record) => record.phase === CALM);
    const calmChecks = [
      ...calmRow.checks,
      check('no stream ended in an error event', calmRow.errorEvents === 0, describeErrorEvents(calmRecords.filter((record) => record.outcome === 'error_event'))),
    ];
    if (process.env['CHAOS_DUMP']) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(process.env['CHAOS_DUMP'], JSON.stringify({ records: load.records, transitions: load.transitions }));
    }
    const rows = [{ ...calmRow, checks: calmChecks }, ...faultRows];

    const alive = await Promise.all(fleet.replicas.map((replica) => fleet?.alive(replica) ?? false));
    const figures = fleetFigures(profile, load, rows, {
      baseline,
      peak: sampler.peak,
      after,
      baselineHeap,
      afterHeap,
      watchedUp: watched.running,
      alive,
    });

    log('fuzzing');
    fuzzTarget = await FuzzTarget.start();
    const fuzz: FuzzOutcome[] = [];
    fuzz.push(await fuzzBodies(fuzzTarget, profile.fuzz.bodies, options.seed));
    fuzz.push(await fuzzHeaders(fuzzTarget, profile.fuzz.headers, options.seed));
    fuzz.push(await fuzzConfigParse(fuzzTarget, profile.fuzz.configParse, options.seed));
    fuzz.push(await fuzzConfigCheck(fuzzTarget, profile.fuzz.configCheckCli, options.seed));
    fuzz.push(await fuzzHotReload(fuzzTarget, profile.fuzz.hotReload, options.seed));
    return { profile: profile.name, seed: options.seed, durationMs: Date.now() - started, faults: rows, figures, fuzz };
  } finally {
    await fuzzTarget?.stop().catch(() => undefined);
    await fleet?.stop().catch(() => undefined);
  }
}

async function runFault(fault: Fault, context: Omit<FaultContext, 'injected'>): Promise<FaultRow> {
  const { fleet, load, profile } = context;
  fleet.primary.clearRecords();
  fleet.secondary.clearRecords();
  load.enter(fault.name);
  let injectedAt = Date.now();
  let verify: Awaited<ReturnType<Fault['run']>>;
  let crashed: string | null = null;
  try {
    verify = await fault.run({ ...context, injected: () => void (injectedAt = Date.now()) });
  } catch (error) {
    crashed = error instanceof Error ? error.message : String(error);
    verify = () => [];
  }
  const recoveredMs = await fleet.waitForRecovery(profile.recoverMs);
  load.enter(CALM);
  // The phase's last requests finish on their own (every request has a watchdog).
  const settleBy = Date.now() + profile.timeouts.total_ms + profile.timeouts.idle_ms * 2 + 5000;
  while (load.inFlightOf(fault.name) > 0 && Date.now() < settleBy) await sleep(50);
  const records = load.records.filter((record) => record.phase === fault.name);
  const own = await verify(records);
  if (crashed !== null) own.push(check('the fault ran', false, crashed));
  return summarise(fault, records, recoveredMs, own, injectedAt, fault);
}

function summarise(
  fault: FaultRow['fault'],
  records: readonly RequestRecord[],
  recoveredMs: FaultRow['recoveredMs'],
  own: readonly Check[],
  injectedAt: number,
  policy?: Fault,
): FaultRow {
  const failures = records.filter((record) => record.outcome === 'failure');
  const errorEvents = records.filter((record) => record.outcome === 'error_event');
  const failovers = records.filter((record) => /primary=(?!200\b)/.test(record.attempts ?? '')).length;
  const checks: Check[] = [check('no client-visible failure', failures.length === 0, describeFailures(failures)), check('requests ran during it', records.length >= 5, records.length >= 5 ? '' : `only ${records.length}`)];
  if (policy) {
    switch (policy.errorEvents) {
      case 'none':
        checks.push(check('no stream ended in an error event', errorEvents.length === 0, describeErrorEvents(errorEvents)));
        break;
      case 'in-flight': {
        const late = errorEvents.filter((record) => record.startedAt > injectedAt);
        checks.push(check('error events only on streams in flight when it struck', late.length === 0, `${errorEvents.length} error event(s), ${late.length} on streams started after it struck`));
        break;
      }
      case 'required': {
        const explicit = errorEvents.filter((record) => /backend "primary"/.test(record.errorMessage ?? '') && ['stream_error', 'stream_timeout'].includes(record.errorCode ?? ''));
        checks.push(check('streams it hit ended in an SSE error event naming the backend', errorEvents.length >= 1 && explicit.length === errorEvents.length, describeErrorEvents(errorEvents)));
        break;
      }
    }
    if (policy.mustStrike) checks.push(check('the fault struck', failovers + errorEvents.length > 0, `${failovers} failover(s), ${errorEvents.length} error event(s)`));
    checks.push(check('the fleet uses the primary again', recoveredMs !== null, recoveredMs === null ? 'not within the recovery bound' : ''));
  }
  return {
    fault,
    requests: records.length,
    ok: records.filter((record) => record.outcome === 'ok').length,
    errorEvents: errorEvents.length,
    failures: failures.length,
    failovers,
    recoveredMs,
    checks: [...checks, ...own],
  };
}

function notRun(fault: Fault): FaultRow {
  return { fault, requests: 0, ok: 0, errorEvents: 0, failures: 0, failovers: 0, recoveredMs: null, checks: [check('run within the time budget', false, 'skipped: budget used up')] };
}

function describeFailures(failures: readonly RequestRecord[]): string {
  if (failures.length === 0) return '';
  const kinds = new Map<string, number>();
  for (const record of failures) {
    const kind = (record.failure ?? '?').replace(/:\d+$/, '');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const first = failures[0] as RequestRecord;
  return `${[...kinds].map(([kind, count]) => `${count}× ${kind}`).join(', ')}; e.g. ${first.id} on ${first.replica ?? '?'}: ${first.failure}, attempts "${first.attempts ?? '-'}"`;
}

function describeErrorEvents(events: readonly RequestRecord[]): string {
  if (events.length === 0) return '';
  const codes = [...new Set(events.map((record) => record.errorCode))].join(', ');
  return `${events.length} error event(s), codes ${codes}; e.g. "${(events[0]?.errorMessage ?? '').slice(0, 140)}"`;
}

interface MemoryFigures {
  readonly baseline: number | null;
  readonly peak: number;
  readonly after: number | null;
  readonly baselineHeap: number | null;
  readonly afterHeap: number | null;
  readonly watchedUp: boolean;
  readonly alive: readonly boolean[];
}

function fleetFigures(profile: ChaosProfile, load: LoadGenerator, rows: readonly FaultRow[], memory: MemoryFigures): Figure[] {
  const records = load.records;
  const failures = records.filter((record) => record.outcome === 'failure');
  const streamed = records.filter((record) => record.stream).length;
  const kinds = (pattern: RegExp) => failures.filter((record) => pattern.test(record.failure ?? '')).length;
  const waits = records
    .filter((record) => record.outcome !== 'failure')
    .map((record) => (record.stream ? (record.headersAt ?? record.endedAt) : record.endedAt) - record.startedAt);
  const longestWait = waits.length > 0 ? Math.max(...waits) : 0;
  const errorEvents = records.filter((record) => record.outcome === 'error_event').length;
  const trials = rows.flatMap((row) => row.checks.filter((item) => item.name.startsWith('trial discipline')));
  const rerouted = load.balancer.rerouted;
  const tolerance = memory.baseline === null ? 0 : rssToleranceBytes(memory.baseline);
  const rssOk = memory.baseline !== null && memory.after !== null && memory.after <= memory.baseline + tolerance;
  return [
    {
      name: 'requests',
      value: `${records.length} (${streamed} streamed), ${profile.load.concurrency} concurrent SDK clients; re-sent by the balancer: ${rerouted.refused} refused, ${rerouted.shuttingDown} shutting_down, ${rerouted.drainingSocketClosed} closed while draining`,
      ok: null,
    },
    { name: 'client-visible failures', value: `${failures.length} (the secondary stayed healthy throughout)`, ok: failures.length === 0 },
    { name: 'requests over total_ms', value: `${kinds(/^over_total_ms/)}; longest wait for an answer or first event ${longestWait} ms (total_ms ${profile.timeouts.total_ms}, +500 ms slack)`, ok: kinds(/^over_total_ms/) === 0 },
    { name: 'streams truncated without an error', value: `${kinds(/^(truncated_without_error|stream_broken|chunks:)/)}`, ok: kinds(/^(truncated_without_error|stream_broken|chunks:)/) === 0 },
    { name: 'hung requests', value: `${kinds(/^hang/)}`, ok: kinds(/^hang/) === 0 },
    { name: 'streams ended by an SSE error event', value: `${errorEvents} (all after the commit point, see the table)`, ok: null },
    { name: 'probe discipline (flap)', value: trials.map((item) => item.detail).join('; ') || 'not measured', ok: trials.length > 0 && trials.every((item) => item.ok) },
    {
      name: 'gateways stayed up',
      value: `replica A ran throughout: ${memory.watchedUp ? 'yes' : 'NO'}; /healthz at the end: ${memory.alive.map((up) => (up ? 'up' : 'DOWN')).join(', ')}; B stopped only by the SIGTERM fault`,
      ok: memory.watchedUp && memory.alive.every(Boolean),
    },
    {
      name: 'RSS back to baseline (replica A)',
      value: `baseline ${mib(memory.baseline)}, peak under load ${mib(memory.peak)}, after ${mib(memory.after)} (tolerance +${mib(tolerance)}); JS heap used ${mib(memory.baselineHeap)} → ${mib(memory.afterHeap)}`,
      ok: rssOk,
    },
  ];
}
