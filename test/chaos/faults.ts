/**
 * The faults, each with what it must (and must not) do to clients. A fault runs
 * while the steady load runs: it injects, holds, heals, and returns the checks
 * only it knows about; the runner adds the checks every fault shares (no
 * client-visible failure, its error-event policy, the fault struck, the fleet
 * recovered).
 *
 * Error-event policy, from the streaming commit point (README "Failover"):
 * - `none`: the fault strikes before the commit point, so it is absorbed by
 *   failover; no stream may end in an error event.
 * - `in-flight`: like `none`, except that streams already committed to the
 *   primary when it died must end in an explicit SSE error event.
 * - `required`: the fault strikes after the commit point; every stream it hits
 *   must end in an SSE error event naming the backend (never a hang, never a
 *   truncated stream that looks complete), and at least one must have been hit.
 */
import { stringify } from 'yaml';
import type { Behavior } from '../support/fake-upstream.js';
import { waitFor } from '../support/wait.js';
import type { Fleet, FleetReplica } from './fleet.js';
import { HEALTHY, PINNED_SHA, PRIMARY_MODEL, RESYNCED_SHA, sleep } from './fleet.js';
import type { LoadGenerator, RequestRecord } from './load.js';
import type { ChaosProfile } from './profile.js';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export type ErrorEventPolicy = 'none' | 'in-flight' | 'required';

export interface FaultContext {
  readonly fleet: Fleet;
  readonly load: LoadGenerator;
  readonly profile: ChaosProfile;
  /** Marks the moment the fault struck (default: when run() started). */
  injected(): void;
  log(line: string): void;
}

/** Checks a fault computes once the fleet has recovered, from the requests of its phase. */
export type FaultVerifier = (records: readonly RequestRecord[]) => Check[] | Promise<Check[]>;

export interface Fault {
  readonly name: string;
  readonly strikes: 'before commit' | 'after commit' | 'both' | 'infrastructure';
  readonly expectation: string;
  readonly errorEvents: ErrorEventPolicy;
  /** Whether some request must show the fault (a failover or an error event). */
  readonly mustStrike: boolean;
  run(context: FaultContext): Promise<FaultVerifier>;
}

export function check(name: string, ok: boolean, detail = ''): Check {
  return { name, ok, detail };
}

/** Sets the primary's behaviour for the fault's duration, then heals it. */
function primaryBehaves(behavior: Behavior): (context: FaultContext) => Promise<FaultVerifier> {
  return async ({ fleet, profile }) => {
    fleet.primary.setDefault(behavior);
    await sleep(profile.faultMs);
    fleet.primary.setDefault(HEALTHY);
    return () => [];
  };
}

/** Streams get `stream`, non-streamed requests a normal answer. */
function streamsOnly(stream: Extract<Behavior, { kind: 'stream' }>): Behavior {
  return { kind: 'split', stream, plain: { kind: 'ok' } };
}

function preCommit(name: string, expectation: string, behavior: (profile: ChaosProfile) => Behavior, extra?: Partial<Fault>): Fault {
  return {
    name,
    strikes: 'before commit',
    expectation,
    errorEvents: 'none',
    mustStrike: true,
    run: (context) => primaryBehaves(behavior(context.profile))(context),
    ...extra,
  };
}

function postCommit(name: string, expectation: string, stream: Extract<Behavior, { kind: 'stream' }>): Fault {
  return {
    name,
    strikes: 'after commit',
    expectation,
    errorEvents: 'required',
    mustStrike: true,
    run: primaryBehaves(streamsOnly(stream)),
  };
}

const primaryKilled: Fault = {
  name: 'primary killed (port closed), restarted',
  strikes: 'both',
  expectation: 'failover; streams it was serving end in an error event',
  errorEvents: 'in-flight',
  mustStrike: true,
  async run({ fleet, profile, injected }) {
    injected();
    await fleet.primary.close();
    await sleep(profile.faultMs);
    await fleet.primary.reopen();
    return () => [];
  },
};

function rateLimited(withRetryAfter: boolean): Fault {
  return {
    name: withRetryAfter ? 'primary answers 429 with retry-after' : 'primary answers 429 without retry-after',
    strikes: 'before commit',
    expectation: withRetryAfter ? 'failover; the fleet keeps off the primary for retry-after' : 'retry, then failover',
    errorEvents: 'none',
    mustStrike: true,
    async run({ fleet, profile }) {
      const retryAfterS = Math.max(1, Math.round(profile.breaker.reset_ms / 1000));
      const from = Date.now();
      fleet.primary.setDefault({ kind: 'status', status: 429, ...(withRetryAfter ? { headers: { 'retry-after': String(retryAfterS) } } : {}) });
      await sleep(profile.faultMs);
      fleet.primary.setDefault(HEALTHY);
      const to = Date.now();
      if (!withRetryAfter) return () => [];
      return () => {
        // Each 429 cools the primary down for the whole fleet; allow one 429 per replica per cooldown (pub/sub lag) plus one.
        const hits = fleet.primary.completionRequests().filter((request) => request.at >= from && request.at <= to).length;
        const allowed = fleet.replicas.length * Math.ceil((to - from) / (retryAfterS * 1000)) + fleet.replicas.length;
        return [check('429 cooldown shared by the fleet', hits <= allowed, `${hits} requests reached the primary in ${to - from} ms (retry-after ${retryAfterS} s, at most ${allowed})`)];
      };
    },
  };
}

const flap: Fault = {
  name: 'primary flaps (down, up, down)',
  strikes: 'before commit',
  expectation: 'failover; ≤ 1 trial request per reset_ms from the fleet',
  errorEvents: 'none',
  mustStrike: true,
  async run({ fleet, profile, log }) {
    // "Down" is the hard case for probe discipline: completions fail (503) while the health endpoint still
    // answers 200, so only the breaker and its fleet-wide trial lease keep traffic off the primary.
    const windows: { from: number; to: number }[] = [];
    const down = async (ms: number) => {
      const from = Date.now();
      fleet.primary.setDefault({ kind: 'status', status: 503 });
      await sleep(ms);
      fleet.primary.setDefault(HEALTHY);
      windows.push({ from, to: Date.now() });
    };
    await down(profile.flap.downMs);
    log(`flap: up for ${profile.flap.upMs} ms`);
    await sleep(profile.flap.upMs);
    await down(profile.flap.secondDownMs);
    return (records) => {
      const replicaOf = new Map(records.map((record) => [record.id, record.replica ?? '?']));
      return windows.map((window, index) => trialDiscipline(fleet, profile.breaker.reset_ms, window, index + 1, replicaOf));
    };
  },
};

/** After the first trip of a down window, at most one request per reset_ms reaches the primary, fleet-wide. */
function trialDiscipline(fleet: Fleet, resetMs: number, window: { from: number; to: number }, index: number, replicaOf: ReadonlyMap<string, string>): Check {
  const trips = fleet.replicas
    .flatMap((replica) => replica.process.logs('breaker opened').map((line) => ({ replica: replica.name, at: logTime(line) })))
    .filter((trip) => trip.at >= window.from && trip.at <= window.to)
    .sort((a, b) => a.at - b.at);
  const tripAt = trips[0]?.at;
  const name = `trial discipline, down window ${index}`;
  if (tripAt === undefined) return check(name, false, 'the breaker never opened while the primary was down');
  // The other replica learns of the trip through Redis pub/sub: what it sent in that moment was sent with a
  // closed breaker, not as a trial. No trial can come before tripAt + reset_ms anyway.
  const propagationMs = Math.min(100, resetMs / 2);
  const stragglers = fleet.primary.completionRequests().filter((request) => request.at > tripAt && request.at <= tripAt + propagationMs).length;
  const requests = fleet.primary.completionRequests().filter((request) => request.at > tripAt + propagationMs && request.at <= window.to);
  const trials = requests.map((request) => request.at);
  if (process.env['CHAOS_DEBUG']) {
    const shown = requests.map((request) => `+${request.at - tripAt}ms ${replicaOf.get(String(request.headers['x-request-id'])) ?? '?'}`);
    console.error(`[debug] window ${index}: trips ${trips.map((trip) => `${trip.replica}+${trip.at - tripAt}`).join(' ')}; trials ${shown.join(', ')}`);
  }
  const allowed = Math.ceil((window.to - tripAt) / resetMs);
  const gaps = trials.slice(1).map((at, position) => at - (trials[position] as number));
  const minGap = gaps.length > 0 ? `${Math.min(...gaps)} ms` : '-';
  return check(
    name,
    trials.length >= 1 && trials.length <= allowed,
    `${trials.length} trials in ${window.to - tripAt} ms after the trip (reset_ms ${resetMs}: at most ${allowed}); shortest gap ${minGap}; ${stragglers} sent while the trip propagated (≤ ${propagationMs} ms)`,
  );
}

const revisionChanged: Fault = {
  name: 'observed revision changes (mirror re-synced)',
  strikes: 'before commit',
  expectation: 'failover; no answer of the wrong revision',
  errorEvents: 'none',
  mustStrike: true,
  async run({ fleet, profile }) {
    const from = Date.now();
    fleet.primary.servedModel = `llama-3.1-8b@${RESYNCED_SHA}`;
    await sleep(profile.faultMs);
    fleet.primary.servedModel = PRIMARY_MODEL;
    return () => {
      const changes = fleet.replicas.reduce((sum, replica) => sum + logLinesSince(replica, 'observed revision changed', from), 0);
      return [check('the change is logged', changes >= 1, `${changes} "observed revision changed" lines`)];
    };
  },
};

/** A log line's time: epoch ms (pino's default), or an ISO string from older builds. */
function logTime(line: Record<string, unknown>): number {
  const time = line['time'];
  return typeof time === 'number' ? time : Date.parse(String(time));
}

/** How many `message` lines a replica logged at or after `from`. */
function logLinesSince(replica: FleetReplica, message: string, from: number): number {
  return replica.process.logs(message).filter((line) => logTime(line) >= from).length;
}

const redisOutage: Fault = {
  name: 'Redis killed mid-run, restarted',
  strikes: 'infrastructure',
  expectation: 'no failure; both replicas reconnect',
  errorEvents: 'none',
  mustStrike: false,
  async run({ fleet, profile }) {
    const from = Date.now();
    await fleet.redis.kill();
    await sleep(profile.faultMs);
    await fleet.redis.restart();
    return () => {
      const logged = fleet.replicas.map((replica) => logLinesSince(replica, 'state store unreachable: serving on local state until it returns', from));
      return [check('each replica noticed the outage', logged.every((count) => count >= 1), `outage logged ${logged.join(' / ')} times`)];
    };
  },
};

const configEdits: Fault = {
  name: 'routes.config.yaml edited (valid, then invalid)',
  strikes: 'infrastructure',
  expectation: 'no failure; valid edit applied, invalid one rejected',
  errorEvents: 'none',
  mustStrike: false,
  async run({ fleet, profile }) {
    const base = fleet.baseConfig as { routes: Record<string, unknown> };
    const chat = base.routes['chat'] as unknown[];
    const withRoute = stringify({ ...base, routes: { ...base.routes, 'chat-b': [...chat].reverse() } });
    const invalid = withRoute.replace(`revision: ${PINNED_SHA}`, 'revision: latest');
    const listed = async (route: string) =>
      (await Promise.all(fleet.replicas.map(async (replica) => (await modelsOf(replica.process.url)).includes(route)))).every(Boolean);
    const lastReload = async () => Promise.all(fleet.replicas.map(async (replica) => (await fleet.status(replica))?.config.last_reload ?? null));
    const checks: Check[] = [];

    await fleet.writeConfigText(withRoute);
    checks.push(check('valid edit applied by every replica', await waitFor(() => listed('chat-b'), 5000, 'chat-b listed').then(() => true, () => false)));
    await sleep(profile.faultMs / 2);
    await fleet.writeConfigText(invalid);
    const rejected = await waitFor(async () => (await lastReload()).every((reload) => reload?.result === 'error'), 5000, 'rejection').then(() => true, () => false);
    const problems = (await lastReload()).map((reload) => reload?.problems[0] ?? '-');
    checks.push(check('invalid edit rejected by every replica', rejected, problems[0] ?? ''));
    checks.push(check('the previous table keeps serving', await listed('chat-b')));
    await sleep(profile.faultMs / 2);
    await fleet.writeConfigText(fleet.baseConfigText());
    checks.push(check('restoring the original applies', await waitFor(async () => !(await listed('chat-b')) && (await modelsOf(fleet.replicas[0]?.process.url ?? '')).includes('chat'), 5000, 'restored').then(() => true, () => false)));
    return () => checks;
  },
};

async function modelsOf(url: string): Promise<string[]> {
  try {
    const body = (await (await fetch(`${url}/v1/models`, { signal: AbortSignal.timeout(2000) })).json()) as { data?: { id: string }[] };
    return (body.data ?? []).map((model) => model.id);
  } catch {
    return [];
  }
}

const LONG_STREAMS = 3;

const sigterm: Fault = {
  name: 'SIGTERM to one replica mid-stream',
  strikes: 'infrastructure',
  expectation: 'its streams complete (drain), exit 0; new requests go to the other',
  errorEvents: 'none',
  mustStrike: false,
  async run({ fleet, load, profile, injected }) {
    const replica = fleet.replica('B');
    const target = fleet.balancer.get('B');
    if (!target) throw new Error('replica B is not in the balancer');
    let committed = 0;
    const streams = Array.from({ length: LONG_STREAMS }, () => load.send({ stream: true, long: true, pinned: target, onFirstChunk: () => committed++ }));
    const allCommitted = await waitFor(() => committed === LONG_STREAMS, 5000, 'long streams committed').then(() => true, () => false);
    injected();
    // What an orchestrator does: take it out of the balancer and signal it at the same moment.
    fleet.balancer.drain('B');
    const signalledAt = Date.now();
    replica.process.signal('SIGTERM');
    const exit = await Promise.race([replica.process.waitForExit(), sleep(profile.shutdownGraceMs + 5000).then(() => 'still running' as const)]);
    const drainedMs = Date.now() - signalledAt;
    const long = await Promise.all(streams);
    await fleet.startReplica('B');
    const complete = long.filter((record) => record.outcome === 'ok').length;
    return () => [
      check('long streams were mid-answer at SIGTERM', allCommitted, `${committed}/${LONG_STREAMS} had their first chunk`),
      check('the streams it was serving completed', complete === LONG_STREAMS, `${complete}/${LONG_STREAMS} complete with [DONE]${long.filter((record) => record.failure).map((record) => `; ${record.failure}`).join('')}`),
      check('exited 0 within shutdown_grace_ms', exit === 0 && drainedMs < profile.shutdownGraceMs, `exit ${String(exit)} after ${drainedMs} ms`),
    ];
  },
};

export function faultsFor(): readonly Fault[] {
  return [
    primaryKilled,
    preCommit('primary hangs', 'failover after first_byte_ms', () => ({ kind: 'hang' })),
    preCommit('primary resets before headers', 'failover', () => ({ kind: 'reset' })),
    preCommit('primary answers 500', 'failover', () => ({ kind: 'status', status: 500 })),
    preCommit('primary answers 503', 'failover', () => ({ kind: 'status', status: 503 })),
    rateLimited(true),
    rateLimited(false),
    preCommit('primary first token slow', 'failover after first_byte_ms', (profile) => ({
      kind: 'split',
      stream: { kind: 'stream', firstChunkDelayMs: profile.timeouts.first_byte_ms * 2 },
      plain: { kind: 'ok', delayMs: profile.timeouts.first_byte_ms * 2 },
    })),
    preCommit('malformed first SSE chunk', 'failover (streams)', () => streamsOnly({ kind: 'stream', malformedFirst: true })),
    preCommit('in-band error as first event', 'failover (streams)', () => streamsOnly({ kind: 'stream', inBandErrorFirst: true })),
    postCommit('stream cut mid-answer', 'SSE error event', { kind: 'stream', chunks: 4, intervalMs: 10, dropAfter: 2 }),
    postCommit('stream stalls mid-answer', 'SSE error event after idle_ms', { kind: 'stream', chunks: 4, intervalMs: 10, stallAfter: 2 }),
    postCommit('stream ends without [DONE]', 'SSE error event', { kind: 'stream', chunks: 4, intervalMs: 10, omitDone: true }),
    flap,
    revisionChanged,
    redisOutage,
    configEdits,
    sigterm,
  ];
}
