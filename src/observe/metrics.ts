/**
 * Prometheus metrics (SPEC §7); the only prom-client import. Label values come
 * from config (route and backend names) or from small closed sets (status codes,
 * attempt outcomes), never from request input, so series stay bounded.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RoutingTable } from '../config/table.js';
import type { AttemptRecord } from '../errors.js';
import type { BreakerState } from '../health/breaker.js';
import type { HealthRegistry } from '../health/registry.js';
import type { StoreConnectivity } from '../state/store.js';

/** Route label for requests that named no configured route. */
export const NO_ROUTE = '(none)';

const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export interface RequestMetrics {
  readonly route: string;
  readonly backend: string;
  readonly status: number;
  readonly durationMs: number;
  readonly upstreamTtfbMs: number | null;
  readonly attempts: readonly AttemptRecord[];
}

export class Metrics {
  readonly registry = new Registry();
  private readonly children = new Map<object, Map<string, unknown>>();
  private readonly requests: Counter<'route' | 'backend' | 'status'>;
  private readonly failovers: Counter<'route' | 'backend' | 'reason'>;
  private readonly duration: Histogram<'route'>;
  private readonly upstreamTtfb: Histogram<'route' | 'backend'>;
  private readonly breakerState: Gauge<'backend' | 'model'>;
  private readonly revisionMismatches: Counter<'route' | 'backend'>;
  private readonly revisionChanges: Counter<'backend' | 'model'>;
  private readonly configReloads: Counter<'result'>;
  private readonly storeConnected: Gauge<'kind'>;

  constructor(targetUp: () => { table: RoutingTable; registry: HealthRegistry } | null) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'pinroute_' });
    this.requests = new Counter({
      name: 'pinroute_requests_total',
      help: 'Requests answered, by route, serving backend and HTTP status',
      labelNames: ['route', 'backend', 'status'],
      registers,
    });
    this.failovers = new Counter({
      name: 'pinroute_failovers_total',
      help: 'Targets left or skipped on the way to an answer, by reason (HTTP status or outcome label)',
      labelNames: ['route', 'backend', 'reason'],
      registers,
    });
    this.duration = new Histogram({
      name: 'pinroute_request_duration_seconds',
      help: 'Time from request received to last byte sent',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.upstreamTtfb = new Histogram({
      name: 'pinroute_upstream_ttfb_seconds',
      help: 'Time from dispatch to the serving upstream answer being ready (first event or body)',
      labelNames: ['route', 'backend'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.breakerState = new Gauge({
      name: 'pinroute_breaker_state',
      help: 'Circuit breaker state per backend model: 0 closed, 1 half-open, 2 open',
      labelNames: ['backend', 'model'],
      registers,
    });
    new Gauge({
      name: 'pinroute_target_up',
      help: '1 when the target would be tried now (breaker, health and revision allow it), else 0',
      labelNames: ['route', 'backend'],
      registers,
      collect() {
        this.reset();
        const live = targetUp();
        if (!live) return;
        for (const route of live.table.routes.values()) {
          for (const target of route.targets) {
            this.set({ route: route.name, backend: target.backend.name }, live.registry.skipReason(target) === null ? 1 : 0);
          }
        }
      },
    });
    this.revisionMismatches = new Counter({
      name: 'pinroute_revision_mismatch_total',
      help: 'Requests that met a target serving another revision than pinned',
      labelNames: ['route', 'backend'],
      registers,
    });
    this.revisionChanges = new Counter({
      name: 'pinroute_revision_changes_total',
      help: 'Changes of the observed revision of a backend model (even when it still matches)',
      labelNames: ['backend', 'model'],
      registers,
    });
    this.configReloads = new Counter({
      name: 'pinroute_config_reloads_total',
      help: 'Config reloads by result',
      labelNames: ['result'],
      registers,
    });
    this.storeConnected = new Gauge({
      name: 'pinroute_state_store_connected',
      help: '1 while the shared state store is reachable',
      labelNames: ['kind'],
      registers,
    });
  }

  requestFinished(request: RequestMetrics): void {
    const { route, backend } = request;
    this.child(this.requests, `${route}\u0000${backend}\u0000${request.status}`, { route, backend, status: String(request.status) }).inc();
    this.child(this.duration, route, { route }).observe(request.durationMs / 1000);
    if (request.upstreamTtfbMs !== null) {
      this.child(this.upstreamTtfb, `${route}\u0000${backend}`, { route, backend }).observe(request.upstreamTtfbMs / 1000);
    }
    const servedBy = request.attempts.at(-1);
    for (const attempt of request.attempts) {
      if (attempt === servedBy && request.backend === attempt.backend && request.status < 400) continue;
      this.failovers.inc({ route: request.route, backend: attempt.backend, reason: attempt.outcome });
      if (attempt.outcome === 'revision_mismatch') this.revisionMismatches.inc({ route: request.route, backend: attempt.backend });
    }
  }

  /**
   * prom-client hashes the label object on every call; a labelled child, looked
   * up by a string key, skips that on the hot path. Keys are bounded like labels.
   */
  private child<Labels extends string, Child>(
    metric: { labels(labels: Partial<Record<Labels, string>>): Child },
    key: string,
    labels: Partial<Record<Labels, string>>,
  ): Child {
    let byKey = this.children.get(metric);
    if (!byKey) {
      byKey = new Map();
      this.children.set(metric, byKey);
    }
    let child = byKey.get(key) as Child | undefined;
    if (child === undefined) {
      child = metric.labels(labels);
      byKey.set(key, child);
    }
    return child;
  }

  revisionServedMismatched(route: string, backend: string): void {
    this.revisionMismatches.inc({ route, backend });
  }

  breakerChanged(backend: string, model: string, state: BreakerState): void {
    this.breakerState.set({ backend, model }, BREAKER_STATE_VALUE[state]);
  }

  revisionChanged(backend: string, model: string): void {
    this.revisionChanges.inc({ backend, model });
  }

  configReloaded(result: 'success' | 'error'): void {
    this.configReloads.inc({ result });
  }

  storeConnectivity(connectivity: StoreConnectivity): void {
    this.storeConnected.set({ kind: connectivity.kind }, connectivity.connected ? 1 : 0);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
