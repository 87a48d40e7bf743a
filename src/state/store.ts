/**
 * What gateway replicas share, behind one interface with two implementations:
 * memory-store.ts (embedded, one replica) and redis-store.ts (a fleet).
 *
 * Nothing on the request path awaits a store: replicas apply updates to their
 * in-memory view (health/registry.ts) as they arrive, and `publish` is
 * fire-and-forget. Only background work (trial leases, probe locks, resync)
 * awaits the store.
 */

export type RevisionStatus = 'verified' | 'mismatch' | 'unverified';
/** A probe of the backend's own metadata, or the `model` of an answer (the passive check). */
export type RevisionSource = 'probe' | 'response';

export type StateUpdate =
  /** Keep every replica off a target until `until` (epoch ms). Deadlines only ever grow. */
  | { readonly kind: 'trip'; readonly key: string; readonly until: number; readonly reason: 'breaker' | 'rate_limited' }
  /** A half-open trial succeeded: the target is closed again fleet-wide. */
  | { readonly kind: 'close'; readonly key: string; readonly at: number }
  /** A probe of a backend's health endpoint. */
  | {
      readonly kind: 'health';
      readonly backend: string;
      readonly up: boolean;
      readonly checkedAt: number;
      readonly latencyMs: number;
      readonly error: string | null;
    }
  /** The revision a deployment (backend/model) was observed serving. */
  | {
      readonly kind: 'revision';
      readonly key: string;
      readonly status: RevisionStatus;
      readonly observed: string | null;
      readonly checkedAt: number;
      readonly detail: string | null;
      readonly source: RevisionSource;
    };

export interface Envelope {
  readonly origin: string;
  readonly update: StateUpdate;
}

export interface StoreConnectivity {
  readonly kind: 'memory' | 'redis';
  readonly connected: boolean;
  /** Epoch ms of the last change of `connected`. */
  readonly since: number;
  readonly lastError: string | null;
  /** Redacted location, for status pages (never a password). */
  readonly location: string;
}

export interface StoreListener {
  /** An update published by another replica. */
  onUpdate(update: StateUpdate): void;
  /** The store (re)connected: here is everything it holds, to catch up. */
  onResync(snapshot: readonly StateUpdate[]): void;
  /** Connectivity changed (Redis went away or came back). */
  onConnectivity?(connectivity: StoreConnectivity): void;
}

export interface StateStore {
  /** This replica's id; updates it published come back with it and are ignored. */
  readonly replicaId: string;
  /** Stores and broadcasts an update. A trip never shortens an existing deadline. */
  publish(update: StateUpdate): void;
  subscribe(listener: StoreListener): void;
  /** SET NX PX: true when this replica now holds `name` for ttlMs. */
  acquireLease(name: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string): Promise<void>;
  /** Everything the store holds, for resync and for `pinroute verify`. */
  snapshot(): Promise<readonly StateUpdate[]>;
  connectivity(): StoreConnectivity;
  close(): Promise<void>;
}
