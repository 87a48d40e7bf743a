/**
 * The registry's view of backend health as fleet records arrive: periodic
 * snapshots (redis-store's anti-entropy) must never roll back a newer probe.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observe/logger.js';
import { createMemoryStore } from '../state/memory-store.js';
import { HealthRegistry } from './registry.js';

const quiet = createLogger({ level: 'silent' });

describe('HealthRegistry backend health', () => {
  it('keeps its own newer probe when an older fleet record arrives, and takes a newer one', () => {
    const store = createMemoryStore();
    const registry = new HealthRegistry(store, quiet);
    registry.observeHealth('mirror', { up: true, checkedAt: 2000, latencyMs: 4, error: null });

    registry.onResync([{ kind: 'health', backend: 'mirror', up: false, checkedAt: 1000, latencyMs: 0, error: 'connect ECONNREFUSED' }]);
    expect(registry.healthOf('mirror')).toMatchObject({ up: true, checkedAt: 2000 });

    registry.onUpdate({ kind: 'health', backend: 'mirror', up: false, checkedAt: 3000, latencyMs: 0, error: 'connect ECONNREFUSED' });
    expect(registry.healthOf('mirror')).toMatchObject({ up: false, checkedAt: 3000, error: 'connect ECONNREFUSED' });
    registry.dispose();
    void store.close();
  });
});
