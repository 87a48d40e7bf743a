/**
 * `npm run bench` (quick) and `npm run bench:full`: the fake upstream, then
 * every contender measured in the same run, interleaved round by round so
 * machine drift hits them alike. Prints the tables, writes bench/results/*.json.
 * Flags: --full, --rounds=N, --seconds=N, --only=a,b, --generator=wrk|autocannon,
 * --pinroute=DIR (another built checkout of pinroute, e.g. to compare branches),
 * --pinroute-b=DIR (adds contender pinroute-b from that checkout: an A/B of a
 * hot-path change inside one interleaved run).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { postOnce, sequential } from './client.js';
import { CONTENDER_NAMES, DESCRIPTIONS, REPO_ROOT, startContender, startUpstream, type Contender, type ContenderName } from './contenders.js';
import { ensureInstalled } from './install.js';
import { pickGenerator, runLoad, type Generator, type GeneratorName } from './load.js';
import { rssBytes, watchRun } from './measures.js';
import { requestBody } from './payloads.js';
import { killChildrenOnExit, pickCores, pinSelf, stopChild, type Cores } from './processes.js';
import { render, writeJson } from './report.js';
import { summarize, type ContenderRecord, type LoadSample, type StreamSample } from './results.js';
import { quantile } from './stats.js';

interface Plan {
  readonly mode: 'quick' | 'full';
  readonly rounds: number;
  readonly loadSeconds: number;
  readonly warmupSeconds: number;
  readonly concurrencies: readonly number[];
  /** Load runs beyond the JSON ones (full mode: SSE under load). */
  readonly streamLoadConnections: readonly number[];
  readonly burstCount: number;
  readonly burstMaxMs: number;
  readonly pacedCount: number;
  readonly startupSamples: number;
  readonly contenders: readonly ContenderName[];
  readonly generator: GeneratorName | null;
  readonly pinrouteDir: string;
  readonly pinrouteBDir: string | null;
}

const PORTKEY_DIR = new URL('./portkey/', import.meta.url).pathname;

function planFromArgs(): Plan {
  const { values } = parseArgs({
    options: {
      full: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      only: { type: 'string' },
      generator: { type: 'string' },
      pinroute: { type: 'string' },
      'pinroute-b': { type: 'string' },
    },
  });
  const full = values.full === true;
  const pinrouteB = values['pinroute-b'];
  const known: readonly string[] = pinrouteB === undefined ? CONTENDER_NAMES : [...CONTENDER_NAMES, 'pinroute-b'];
  const contenders = values.only ? values.only.split(',').map((name) => name.trim()) : [...known];
  for (const name of contenders) if (!known.includes(name)) throw new Error(`--only: unknown contender "${name}" (known: ${known.join(', ')})`);
  if (values.generator !== undefined && values.generator !== 'wrk' && values.generator !== 'autocannon') throw new Error('--generator must be wrk or autocannon');
  const positive = (text: string | undefined, fallback: number) => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(value) || value < 1 || value > 3600) throw new Error(`expected a whole number from 1 to 3600, got "${text}"`);
    return value;
  };
  return {
    mode: full ? 'full' : 'quick',
    // Quick: more, shorter rounds interleave better against bursty load from other work on the machine.
    rounds: positive(values.rounds, full ? 4 : 5),
    loadSeconds: positive(values.seconds, full ? 8 : 1),
    warmupSeconds: full ? 3 : 2,
    concurrencies: [1, 32, 128],
    streamLoadConnections: full ? [32] : [],
    burstCount: full ? 2000 : 300,
    burstMaxMs: full ? 5000 : 1000,
    pacedCount: full ? 30 : 6,
    startupSamples: full ? 5 : 3,
    contenders: contenders as ContenderName[],
    generator: values.generator === undefined ? null : values.generator,
    pinrouteDir: values.pinroute === undefined ? REPO_ROOT : resolve(values.pinroute),
    pinrouteBDir: pinrouteB === undefined ? null : resolve(pinrouteB),
  };
}

/** Everything a measurement needs about the running contender. */
interface Live {
  readonly contender: Contender;
  readonly record: ContenderRecord;
}

async function main(): Promise<void> {
  const startedAtMs = Date.now();
  const plan = planFromArgs();
  killChildrenOnExit();
  const cores = pickCores();
  pinSelf(cores.load);
  const notes: string[] = [];
  const loadBefore = loadavg();
  if ((loadBefore[0] ?? 0) > 0.5) notes.push(`the machine was busy before the run (1-min load ${loadBefore[0]?.toFixed(2)}): other processes share both cores, expect noise`);

  const generator = await pickGenerator(plan.generator);
  if (!generator.submillisecond) notes.push('autocannon measures whole milliseconds, so c=1 rows come from bench/client.ts (a sequential node:http client)');
  let names = plan.contenders;
  if (names.includes('portkey')) {
    const installed = await ensureInstalled(PORTKEY_DIR);
    if (!installed.ok) {
      notes.push(`Portkey left out: ${installed.reason}`);
      names = names.filter((name) => name !== 'portkey');
    }
  }

  if (plan.pinrouteDir !== REPO_ROOT) notes.push(`pinroute run from ${plan.pinrouteDir}`);
  if (plan.pinrouteBDir !== null) notes.push(`pinroute-b run from ${plan.pinrouteBDir}`);
  const workDir = await mkdtemp(join(tmpdir(), 'pinroute-bench-'));
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const upstream = await startUpstream(cores.load);
  const live: Live[] = [];
  try {
    for (const name of names) {
      log(`starting ${name}`);
      const contender = await startContender(name, { core: cores.contender, upstream, workDir, startupSamples: plan.startupSamples, pinrouteDir: plan.pinrouteDir, ...(plan.pinrouteBDir === null ? {} : { pinrouteBDir: plan.pinrouteBDir }) });
      const record: ContenderRecord = { name, description: DESCRIPTIONS[name], startupMs: contender.startupMs, rssIdleBytes: rssBytes(contender.pid), rssPeakBytes: null, rssAfterBytes: null, attemptsHeader: null, load: {}, stream: {} };
      live.push({ contender, record });
    }
    for (const entry of live) await warmUp(entry, generator, cores, plan);

    for (let round = 0; round < plan.rounds; round++) {
      // Alternate the order (A B C, C B A, ...) so a drift within a round cancels too.
      const order = round % 2 === 0 ? live : [...live].reverse();
      for (const connections of plan.concurrencies) {
        for (const entry of order) await measureLoad(entry, `json c=${connections}`, false, connections, round, generator, cores, plan);
      }
      for (const connections of plan.streamLoadConnections) {
        for (const entry of order) await measureLoad(entry, `sse c=${connections}`, true, connections, round, generator, cores, plan);
      }
      for (const entry of order) await measureStream(entry, 'burst', round, plan.burstCount, plan.burstMaxMs);
      for (const entry of order) await measureStream(entry, 'paced', round, plan.pacedCount, plan.pacedCount * 1000);
    }

    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (const entry of live) entry.record.rssAfterBytes = rssBytes(entry.contender.pid);
  } finally {
    for (const entry of live) await entry.contender.stop();
    await stopChild(upstream.child);
    await rm(workDir, { recursive: true, force: true });
  }

  const records = live.map((entry) => entry.record);
  for (const record of records) {
    for (const [key, samples] of Object.entries(record.stream)) {
      const failed = samples.filter((sample) => sample.failures > 0);
      if (failed.length > 0) notes.push(`${record.name} ${key} stream: ${failed.reduce((sum, sample) => sum + sample.failures, 0)} failed requests, e.g. "${failed[0]?.firstFailure}"`);
    }
    for (const [key, samples] of Object.entries(record.load)) {
      const errors = samples.reduce((sum, sample) => sum + sample.errors, 0);
      if (errors > 0) notes.push(`${record.name} ${key}: ${errors} failed requests (errors, timeouts or non-2xx); its figures are not comparable`);
    }
  }
  const summary = summarize(records);
  const meta = {
    mode: plan.mode,
    startedAt: new Date(startedAtMs).toISOString(),
    elapsedS: (Date.now() - startedAtMs) / 1000,
    rounds: plan.rounds,
    loadSeconds: plan.loadSeconds,
    generator: generator.name,
    pinning: cores.note,
    node: process.version,
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
    loadAverage: { before: loadBefore, after: loadavg() },
    notes,
  };
  process.stdout.write(`\n${render(meta, summary, plan.concurrencies, plan.streamLoadConnections.map((c) => `sse c=${c}`))}\n`);
  const file = await writeJson(meta, summary, records);
  process.stdout.write(`\nJSON: ${file}\n`);
}

/** JIT warm-up at c=32, then (failover) the dead target's breakers are open: checked on the answer's attempts header. */
async function warmUp(entry: Live, generator: Generator, cores: Cores, plan: Plan): Promise<void> {
  const { contender, record } = entry;
  log(`warming up ${contender.name}`);
  await runLoad(generator, cores.load, contender.endpoint, requestBody(contender.models.json, false), 32, plan.warmupSeconds);
  await sequential(contender.endpoint, requestBody(contender.models.json, true), 50, 1000);
  await sequential(contender.endpoint, requestBody(contender.models.paced, true), 8, 5000);
  if (contender.name === 'pinroute-failover') {
    const answers = await Promise.all([contender.models.json, contender.models.paced].map((model) => postOnce(contender.endpoint, requestBody(model, model === contender.models.paced))));
    const headers = answers.map((answer) => String(answer.headers['x-pinroute-attempts'] ?? ''));
    record.attemptsHeader = headers.join(' | ');
    if (!headers.every((header) => /^dead=(breaker_open|down), live=200$/.test(header))) throw new Error(`pinroute-failover: the dead target is not skipped after warm-up (x-pinroute-attempts: ${record.attemptsHeader})`);
  }
}

async function measureLoad(entry: Live, key: string, stream: boolean, connections: number, round: number, generator: Generator, cores: Cores, plan: Plan): Promise<void> {
  const { contender, record } = entry;
  const body = requestBody(contender.models.json, stream);
  // Direct's process is the upstream, on the load core: its core share says nothing about the contender core.
  const watch = watchRun(contender.pid, contender.name === 'direct' ? null : cores.contender);
  let sample: Omit<LoadSample, 'cpuUsPerRequest' | 'foreignCoreShare'>;
  if (connections === 1 && !generator.submillisecond) {
    const result = await sequential(contender.endpoint, body, Number.MAX_SAFE_INTEGER, plan.loadSeconds * 1000);
    const totals = result.timings.map((timing) => timing.totalMs);
    sample = { round, generator: 'node-client', requests: totals.length, rps: totals.length / (result.elapsedMs / 1000), p50Ms: quantile(totals, 0.5) ?? 0, p99Ms: quantile(totals, 0.99) ?? 0, errors: result.failures };
  } else {
    const result = await runLoad(generator, cores.load, contender.endpoint, body, connections, plan.loadSeconds);
    sample = { round, generator: result.generator, requests: result.requests, rps: result.rps, p50Ms: result.p50Ms, p99Ms: result.p99Ms, errors: result.errors };
  }
  const { cpuUsPerRequest, foreignCoreShare, peakRssBytes } = watch.stop(sample.requests);
  if (peakRssBytes !== null && (record.rssPeakBytes === null || peakRssBytes > record.rssPeakBytes)) record.rssPeakBytes = peakRssBytes;
  (record.load[key] ??= []).push({ ...sample, cpuUsPerRequest, foreignCoreShare });
  const foreign = foreignCoreShare === null ? '' : `  other work on its core ${(foreignCoreShare * 100).toFixed(0)}%`;
  log(`round ${round + 1} ${key.padEnd(9)} ${contender.name.padEnd(17)} ${Math.round(sample.rps).toString().padStart(6)} req/s  p50 ${sample.p50Ms.toFixed(2)} ms${sample.errors ? `  ${sample.errors} errors` : ''}${foreign}`);
}

async function measureStream(entry: Live, key: 'burst' | 'paced', round: number, count: number, maxMs: number): Promise<void> {
  const { contender, record } = entry;
  const model = key === 'paced' ? contender.models.paced : contender.models.json;
  const result = await sequential(contender.endpoint, requestBody(model, true), count, maxMs);
  const first = result.timings.map((timing) => timing.firstChunkMs);
  const total = result.timings.map((timing) => timing.totalMs);
  const sample: StreamSample = {
    round,
    count: result.timings.length,
    failures: result.failures,
    firstFailure: result.firstFailure,
    firstP50Ms: quantile(first, 0.5),
    firstP99Ms: quantile(first, 0.99),
    totalP50Ms: quantile(total, 0.5),
    totalP99Ms: quantile(total, 0.99),
    maxGapP50Ms: quantile(result.timings.map((timing) => timing.maxGapMs), 0.5),
  };
  (record.stream[key] ??= []).push(sample);
  log(`round ${round + 1} ${key.padEnd(9)} ${contender.name.padEnd(17)} first ${sample.firstP50Ms?.toFixed(3)} ms  total ${sample.totalP50Ms?.toFixed(3)} ms${sample.failures ? `  ${sample.failures} failures (${sample.firstFailure})` : ''}`);
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
