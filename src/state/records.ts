/**
 * How an update combines with what a store already holds. One definition for
 * both stores (redis-store.ts runs the same rule inside a Lua script, atomically).
 */
import type { StateUpdate } from './store.js';

/** Trips and closes of one target share a record: a close ends the trip. */
export function recordKey(update: StateUpdate): string {
  switch (update.kind) {
    case 'trip':
    case 'close':
      return `trip:${update.key}`;
    case 'health':
      return `health:${update.backend}`;
    case 'revision':
      return `revision:${update.key}`;
  }
}

/**
 * Applies `update` to `records`; returns what to broadcast, or null when nothing
 * changed (a trip whose deadline is not later than the stored one).
 */
export function mergeIntoRecords(records: Map<string, StateUpdate>, update: StateUpdate): StateUpdate | null {
  const key = recordKey(update);
  if (update.kind === 'close') {
    records.delete(key);
    return update;
  }
  if (update.kind === 'trip') {
    const existing = records.get(key);
    if (existing?.kind === 'trip' && existing.until >= update.until) return null;
  }
  records.set(key, update);
  return update;
}
