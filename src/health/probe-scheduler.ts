/**
 * Probes every backend once per probe.interval_ms across the whole fleet: at each
 * tick a replica takes the backend's probe lock (SET NX PX) and probes only if it
 * got it; the others learn the result through the state store. When the store is
 * unreachable every replica probes for itself, so health stays current locally.
 */
import type { CompiledBackend, CompiledTarget, RoutingTable } from '../config/table.js';
import type { Logger } from '../observe/logger.js';
import type { StateStore } from '../state/store.js';
import { probeBackend, type BackendProbe } from './probe.js';
import type { HealthRegistry } from './registry.js';

interface Schedule {
  readonly signature: string;
  timer: NodeJS.Timeout | null;
  stopped: boolean;
}

export class ProbeScheduler {
  private readonly schedules = new Map<string, Schedule>();

  constructor(
    private readonly registry: HealthRegistry,
    private readonly store: StateStore,
    private readonly logger: Logger,
  ) {}

  /** Starts probes of new backends, restarts changed ones, stops removed ones (hot reload). */
  sync(table: RoutingTable): void {
    const targetsByBackend = groupTargets(table);
    for (const backend of table.backends.values()) {
      const targets = targetsByBackend.get(backend.name) ?? [];
      const signature = JSON.stringify([backend.fingerprint, backend.probe, backend.verify, targets.map((target) => [target.stateKey, target.revision])]);
      const existing = this.schedules.get(backend.name);
      if (existing?.signature === signature) continue;
      if (existing) this.cancel(existing);
      const schedule: Schedule = { signature, timer: null, stopped: false };
      this.schedules.set(backend.name, schedule);
      if (targets.length > 0) this.tick(schedule, backend, targets);
    }
    for (const [name, schedule] of this.schedules) {
      if (!table.backends.has(name)) {
        this.cancel(schedule);
        this.schedules.delete(name);
      }
    }
  }

  stop(): void {
    for (const schedule of this.schedules.values()) this.cancel(schedule);
    this.schedules.clear();
  }

  private tick(schedule: Schedule, backend: CompiledBackend, targets: readonly CompiledTarget[]): void {
    const interval = backend.probe.interval_ms;
    void this.probeIfOurTurn(backend, targets).finally(() => {
      if (schedule.stopped) return;
      schedule.timer = setTimeout(() => this.tick(schedule, backend, targets), interval);
      schedule.timer.unref();
    });
  }

  private async probeIfOurTurn(backend: CompiledBackend, targets: readonly CompiledTarget[]): Promise<void> {
    const interval = backend.probe.interval_ms;
    // A little shorter than the interval, so the holder's own next tick finds it free.
    const lockMs = interval - Math.min(interval / 10, 1000);
    let ourTurn: boolean;
    try {
      ourTurn = await this.store.acquireLease(`probe:${backend.name}`, lockMs);
    } catch {
      ourTurn = true; // the fleet cannot be asked: keep local health current
    }
    if (!ourTurn) return;
    try {
      this.record(await probeBackend(backend, targets));
    } catch (error) {
      this.logger.error({ backend: backend.name, err: String(error) }, 'probe failed unexpectedly');
    }
  }

  private record(probe: BackendProbe): void {
    const previous = this.registry.healthOf(probe.backend);
    if (previous.up !== probe.up) {
      const fields = { backend: probe.backend, up: probe.up, error: probe.error, latencyMs: probe.latencyMs };
      if (probe.up) this.logger.info(fields, 'backend up');
      else this.logger.warn(fields, 'backend down');
    }
    this.registry.observeHealth(probe.backend, { up: probe.up, checkedAt: probe.checkedAt, latencyMs: probe.latencyMs, error: probe.error });
    for (const [key, verdict] of probe.revisions) {
      this.registry.observeRevision(key, { ...verdict, checkedAt: probe.checkedAt, source: 'probe' });
    }
  }

  private cancel(schedule: Schedule): void {
    schedule.stopped = true;
    if (schedule.timer) clearTimeout(schedule.timer);
    schedule.timer = null;
  }
}

function groupTargets(table: RoutingTable): Map<string, CompiledTarget[]> {
  const byBackend = new Map<string, CompiledTarget[]>();
  for (const targets of table.targetsByStateKey.values()) {
    const target = targets[0];
    if (!target) continue;
    const list = byBackend.get(target.backend.name) ?? [];
    list.push(target);
    byBackend.set(target.backend.name, list);
  }
  return byBackend;
}


