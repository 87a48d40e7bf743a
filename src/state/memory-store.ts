/**
 * The embedded store: the default when no Redis is configured. Several stores can
 * share one MemoryHub, which is how the shared contract suite checks fleet
 * semantics (leases, extend-only trips, broadcast) without a network.
 */
import { randomUUID } from 'node:crypto';
import type { Envelope, StateStore, StateUpdate, StoreConnectivity, StoreListener } from './store.js';
import { mergeIntoRecords } from './records.js';

export class MemoryHub {
  readonly records = new Map<string, StateUpdate>();
  readonly leases = new Map<string, { holder: string; expiresAt: number }>();
  readonly listeners = new Set<(envelope: Envelope) => void>();

  constructor(readonly now: () => number = Date.now) {}
}

export function createMemoryStore(hub: MemoryHub = new MemoryHub()): StateStore {
  const replicaId = randomUUID();
  const since = hub.now();
  let closed = false;
  let deliver: ((envelope: Envelope) => void) | null = null;

  const connectivity = (): StoreConnectivity => ({
    kind: 'memory',
    connected: !closed,
    since,
    lastError: null,
    location: 'embedded',
  });

  return {
    replicaId,
    publish(update) {
      if (closed) return;
      const stored = mergeIntoRecords(hub.records, update);
      if (!stored) return;
      const envelope: Envelope = { origin: replicaId, update: stored };
      // Delivered on a later tick, as a network would: publishers never see re-entrant callbacks.
      queueMicrotask(() => {
        for (const listener of hub.listeners) listener(envelope);
      });
    },
    subscribe(listener: StoreListener) {
      if (deliver) hub.listeners.delete(deliver);
      deliver = (envelope) => {
        if (!closed && envelope.origin !== replicaId) listener.onUpdate(envelope.update);
      };
      hub.listeners.add(deliver);
      const snapshot = [...hub.records.values()];
      queueMicrotask(() => listener.onResync(snapshot));
    },
    async acquireLease(name, ttlMs) {
      const now = hub.now();
      const lease = hub.leases.get(name);
      if (lease && lease.expiresAt > now) return false;
      hub.leases.set(name, { holder: replicaId, expiresAt: now + ttlMs });
      return true;
    },
    async releaseLease(name) {
      if (hub.leases.get(name)?.holder === replicaId) hub.leases.delete(name);
    },
    async snapshot() {
      return [...hub.records.values()];
    },
    connectivity,
    async close() {
      closed = true;
      if (deliver) hub.listeners.delete(deliver);
    },
  };
}
