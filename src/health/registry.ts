/**
 * This replica's in-memory view of every target's health, and the only writer of
 * it. The request path reads it synchronously (`skipReason`, `begin`); changes
 * made here are published to the state store, and changes published by other
 * replicas arrive through `onUpdate`, so no request ever waits on Redis.
 */
import type { CompiledTarget, RoutingTable } from '../config/table.js';
import type { Logger } from '../observe/logger.js';
import type { StateStore, StateUpdate, StoreConnectivity, StoreListener } from '../state/store.js';
import type { BreakerCall } from './breaker.js';
import { TargetState, type RevisionView } from './target-state.js';

export type SkipReason = 'breaker_open' | 'down' | 'revision_mismatch';

export interface BackendHealthView {
  readonly up: boolean | null;
  readonly checkedAt: number | null;
  readonly latencyMs: number | null;
  readonly error: string | null;
}

/** Hooks for metrics; the registry does not know prom-client. */
export interface RegistryObserver {
  breakerStateChanged?(target: TargetState): void;
  revisionChanged?(target: TargetState, previous: string | null): void;
  storeConnectivityChanged?(connectivity: StoreConnectivity): void;
}

const UNGUARDED_CALL: BreakerCall = { success: () => {}, failure: () => {}, neutral: () => {} };
const UNKNOWN_HEALTH: BackendHealthView = { up: null, checkedAt: null, latencyMs: null, error: null };
const TRIAL_LEASE_RETRY_MS = 1000;

export class HealthRegistry implements StoreListener {
  private readonly targets = new Map<string, TargetState>();
  private readonly backendHealth = new Map<string, BackendHealthView>();
  private readonly healthFingerprints = new Map<string, string>();
  /** Set while mirroring another replica's decision, so it is not published back. */
  private mirroring = false;

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
    private readonly observer: RegistryObserver = {},
    private readonly now: () => number = Date.now,
  ) {
    store.subscribe(this);
  }

  /** Creates state for new targets, keeps compatible ones, drops removed ones (hot reload). */
  sync(table: RoutingTable): void {
    for (const [key, targets] of table.targetsByStateKey) {
      const target = targets[0];
      if (!target) continue;
      const existing = this.targets.get(key);
      if (existing?.isCompatible(target.revision, target.backend.fingerprint, target.breaker)) continue;
      existing?.dispose();
      this.targets.set(key, this.createState(target));
    }
    for (const [key, state] of this.targets) {
      if (!table.targetsByStateKey.has(key)) {
        state.dispose();
        this.targets.delete(key);
      }
    }
    // Health belongs to a backend as deployed: a removed one, or one now at another URL, starts unknown.
    for (const [name, backend] of table.backends) {
      if (this.healthFingerprints.get(name) !== backend.fingerprint) this.backendHealth.delete(name);
      this.healthFingerprints.set(name, backend.fingerprint);
    }
    for (const name of this.backendHealth.keys()) {
      if (!table.backends.has(name)) this.backendHealth.delete(name);
    }
  }

  /** Why a target must be skipped without a request, or null when it may be tried. */
  skipReason(target: CompiledTarget, now: number = this.now()): SkipReason | null {
    const state = this.targets.get(target.stateKey);
    if (!state) return null;
    if (state.openUntil > now || !state.breaker.admits) return 'breaker_open';
    if (state.breaker.state === 'half_open' && state.trialLease !== 'held') return 'breaker_open';
    if (this.backendHealth.get(target.backend.name)?.up === false) return 'down';
    if (target.onRevisionMismatch === 'skip' && this.knownMismatch(target, now)) return 'revision_mismatch';
    return null;
  }

  /**
   * The target is known to serve another revision. A mismatch seen in an answer
   * (the passive check) is remembered for one probe interval only: for backends
   * whose probes cannot see the revision (openai), trying again later is the only
   * way to learn that the drift is over.
   */
  knownMismatch(target: CompiledTarget, now: number = this.now()): boolean {
    const revision = this.targets.get(target.stateKey)?.revision;
    if (revision?.status !== 'mismatch') return false;
    return revision.source !== 'response' || now - (revision.checkedAt ?? 0) < target.backend.probe.interval_ms;
  }

  /** Milliseconds until a skipped target may be tried again, when known. */
  reopensInMs(target: CompiledTarget, now: number = this.now()): number | null {
    const state = this.targets.get(target.stateKey);
    if (!state) return null;
    if (state.openUntil > now) return state.openUntil - now;
    return state.breaker.state === 'closed' ? null : state.breaker.policy.reset_ms;
  }

  /** Starts an attempt through the target's breaker; null when the breaker refuses it. */
  begin(target: CompiledTarget): BreakerCall | null {
    const state = this.targets.get(target.stateKey);
    // Removed by a reload while this request (planned on the old table) was in flight.
    if (!state) return UNGUARDED_CALL;
    state.counters.attempts++;
    return state.breaker.begin();
  }

  /** A 429: nobody in the fleet uses the target for `ms` (never shortens a longer cooldown). */
  coolDown(target: CompiledTarget, ms: number): void {
    const state = this.targets.get(target.stateKey);
    if (!state) return;
    const until = this.now() + ms;
    if (until <= state.openUntil) return;
    state.openUntil = until;
    state.openReason = 'rate_limited';
    this.store.publish({ kind: 'trip', key: state.key, until, reason: 'rate_limited' });
  }

  recordResult(target: CompiledTarget, outcome: string, ok: boolean, message: string | null): void {
    const state = this.targets.get(target.stateKey);
    if (!state) return;
    if (ok) state.counters.successes++;
    else state.counters.failures++;
    if (!ok && message !== null) state.lastError = { outcome, message, at: this.now() };
  }

  recordSkip(target: CompiledTarget): void {
    const state = this.targets.get(target.stateKey);
    if (state) state.counters.skipped++;
  }

  revisionOf(target: CompiledTarget): RevisionView | null {
    return this.targets.get(target.stateKey)?.revision ?? null;
  }

  /** A probe or a response showed which revision the deployment serves. */
  observeRevision(key: string, view: RevisionView): void {
    const state = this.targets.get(key);
    if (!state) return;
    if (state.revision.status === view.status && state.revision.observed === view.observed) {
      state.revision = view;
      return;
    }
    this.applyRevision(state, view);
    this.store.publish({ kind: 'revision', key, ...view, checkedAt: view.checkedAt ?? this.now(), source: view.source ?? 'probe' });
  }

  observeHealth(backend: string, view: BackendHealthView & { up: boolean }): void {
    const checkedAt = view.checkedAt ?? this.now();
    this.backendHealth.set(backend, { ...view, checkedAt });
    this.store.publish({
      kind: 'health',
      backend,
      up: view.up,
      checkedAt,
      latencyMs: view.latencyMs ?? 0,
      error: view.error,
    });
  }

  healthOf(backend: string): BackendHealthView {
    return this.backendHealth.get(backend) ?? UNKNOWN_HEALTH;
  }

  stateOf(key: string): TargetState | undefined {
    return this.targets.get(key);
  }

  onUpdate(update: StateUpdate): void {
    switch (update.kind) {
      case 'trip':
        return this.applyTrip(update.key, update.until, update.reason);
      case 'close':
        return this.applyClose(update.key);
      case 'health':
        // Snapshots arrive periodically (anti-entropy) and may predate this replica's own last probe.
        if ((this.healthOf(update.backend).checkedAt ?? 0) > update.checkedAt) return;
        this.backendHealth.set(update.backend, {
          up: update.up,
          checkedAt: update.checkedAt,
          latencyMs: update.latencyMs,
          error: update.error,
        });
        return;
      case 'revision': {
        const state = this.targets.get(update.key);
        if (state && (state.revision.checkedAt ?? 0) <= update.checkedAt) this.applyRevision(state, update);
        return;
      }
    }
  }

  onResync(snapshot: readonly StateUpdate[]): void {
    const now = this.now();
    for (const update of snapshot) {
      if (update.kind === 'trip' && update.until <= now) continue;
      this.onUpdate(update);
    }
  }

  onConnectivity(connectivity: StoreConnectivity): void {
    this.observer.storeConnectivityChanged?.(connectivity);
  }

  dispose(): void {
    for (const state of this.targets.values()) state.dispose();
    this.targets.clear();
  }

  private createState(target: CompiledTarget): TargetState {
    const key = target.stateKey;
    const state: TargetState = new TargetState(key, target.backend.name, target.model, target.revision, target.backend.fingerprint, target.breaker, {
      onOpen: () => this.breakerOpened(state),
      onHalfOpen: () => this.breakerHalfOpened(state),
      onClose: () => this.breakerClosed(state),
    });
    return state;
  }

  private breakerOpened(state: TargetState): void {
    state.trialLease = 'none';
    this.observer.breakerStateChanged?.(state);
    if (this.mirroring) return;
    const until = this.now() + state.breaker.policy.reset_ms;
    this.logger.warn({ target: state.key, until: new Date(until).toISOString() }, 'breaker opened');
    if (until > state.openUntil) {
      state.openUntil = until;
      state.openReason = 'breaker';
    }
    this.store.publish({ kind: 'trip', key: state.key, until, reason: 'breaker' });
  }

  /** Half-open: only the replica holding the fleet-wide trial lease may send the one trial. */
  private breakerHalfOpened(state: TargetState): void {
    this.observer.breakerStateChanged?.(state);
    if (state.trialLease !== 'none' || state.breaker.state !== 'half_open' || this.targets.get(state.key) !== state) return;
    state.trialLease = 'acquiring';
    const ttlMs = state.breaker.policy.reset_ms;
    this.store
      .acquireLease(`trial:${state.key}`, ttlMs)
      .catch(() => false)
      .then((held) => {
        if (state.breaker.state !== 'half_open' || state.trialLease !== 'acquiring') return;
        state.trialLease = held ? 'held' : 'none';
        if (held) return;
        state.trialRetryTimer = setTimeout(() => {
          state.trialRetryTimer = null;
          this.breakerHalfOpened(state);
        }, Math.min(TRIAL_LEASE_RETRY_MS, ttlMs));
        state.trialRetryTimer.unref();
      });
  }

  private breakerClosed(state: TargetState): void {
    const leaseHeld = state.trialLease === 'held';
    state.trialLease = 'none';
    this.observer.breakerStateChanged?.(state);
    if (this.mirroring) return;
    this.logger.info({ target: state.key }, 'breaker closed');
    this.store.publish({ kind: 'close', key: state.key, at: this.now() });
    if (leaseHeld) this.store.releaseLease(`trial:${state.key}`).catch(() => {});
  }

  private applyTrip(key: string, until: number, reason: 'breaker' | 'rate_limited'): void {
    const state = this.targets.get(key);
    if (!state) return;
    if (until > state.openUntil) {
      state.openUntil = until;
      state.openReason = reason;
    }
    if (reason === 'breaker' && state.breaker.state !== 'open' && until > this.now()) {
      this.mirror(() => state.breaker.forceOpen());
    }
  }

  private applyClose(key: string): void {
    const state = this.targets.get(key);
    if (!state) return;
    if (state.openReason === 'breaker') state.openUntil = 0;
    if (state.breaker.state !== 'closed') this.mirror(() => state.breaker.forceClose());
  }

  private applyRevision(state: TargetState, view: RevisionView): void {
    const previous = state.revision.observed;
    state.revision = { status: view.status, observed: view.observed, checkedAt: view.checkedAt, detail: view.detail, source: view.source };
    if (previous !== null && view.observed !== null && previous !== view.observed) {
      this.logger.warn({ target: state.key, previous, observed: view.observed, status: view.status }, 'observed revision changed');
      this.observer.revisionChanged?.(state, previous);
    }
  }

  private mirror(action: () => void): void {
    this.mirroring = true;
    try {
      action();
    } finally {
      this.mirroring = false;
    }
  }
}
