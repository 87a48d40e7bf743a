/**
 * Picks the state store: Redis when state.redis_url is set, otherwise the
 * embedded in-memory store (one replica). A Redis that is down at start does
 * not stop the gateway: it serves on local state and joins the fleet later.
 */
import type { StateSettings } from '../config/table.js';
import type { Logger } from '../observe/logger.js';
import { createMemoryStore } from './memory-store.js';
import type { StateStore } from './store.js';

/** How long start-up waits for Redis before serving on local state. */
const FIRST_CONNECT_WAIT_MS = 1500;

export async function openStateStore(settings: StateSettings, logger: Logger): Promise<StateStore> {
  if (settings.redisUrl === '') return createMemoryStore();
  // Loaded only when used: ioredis is a tenth of a second of start-up for single-replica gateways.
  const { createRedisStore } = await import('./redis-store.js');
  const store = createRedisStore(settings, logger);
  const started = Date.now();
  while (!store.connectivity().connected && Date.now() - started < FIRST_CONNECT_WAIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!store.connectivity().connected) {
    logger.warn({ redis: store.connectivity().location }, 'state store not reachable at start: serving on local state until it is');
  }
  return store;
}
