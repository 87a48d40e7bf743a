/**
 * The running gateway's live parts: the current routing table and the services
 * that outlive a reload (health registry, upstream pools, metrics). A request
 * reads `table` once when it starts and keeps that reference, so a reload never
 * changes a request in flight; `install` swaps the reference atomically after
 * the new table's state and pools are ready.
 */
import type { RoutingTable } from './config/table.js';
import type { ConfigProblem } from './config/problems.js';
import type { ProbeScheduler } from './health/probe-scheduler.js';
import type { HealthRegistry } from './health/registry.js';
import type { Logger } from './observe/logger.js';
import type { Metrics } from './observe/metrics.js';
import type { StateStore } from './state/store.js';
import type { UpstreamPools } from './upstream/client.js';

export interface ReloadStatus {
  readonly at: number;
  readonly result: 'success' | 'error';
  readonly problems: readonly ConfigProblem[];
}

export class Gateway {
  private current: RoutingTable;
  /** Set once SIGTERM arrives: /readyz turns 503 and new requests are refused. */
  draining = false;
  lastReload: ReloadStatus | null = null;
  readonly startedAt = Date.now();

  constructor(
    table: RoutingTable,
    readonly configFile: string,
    readonly registry: HealthRegistry,
    readonly probes: ProbeScheduler,
    readonly pools: UpstreamPools,
    readonly store: StateStore,
    readonly metrics: Metrics,
    readonly logger: Logger,
  ) {
    this.current = table;
    registry.sync(table);
    pools.sync(table);
    probes.sync(table);
  }

  get table(): RoutingTable {
    return this.current;
  }

  /** Makes `table` the one new requests use; state of unchanged targets carries over. */
  install(table: RoutingTable): void {
    this.registry.sync(table);
    this.pools.sync(table);
    this.current = table;
    this.probes.sync(table);
  }
}
