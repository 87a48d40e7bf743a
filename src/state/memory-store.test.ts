import { describe } from 'vitest';
import { createMemoryStore, MemoryHub } from './memory-store.js';
import { storeContract } from './store.contract.js';

describe('memory store: the StateStore contract', () => {
  storeContract(async () => {
    const hub = new MemoryHub();
    const stores = [createMemoryStore(hub), createMemoryStore(hub)] as const;
    return {
      a: stores[0],
      b: stores[1],
      join: async () => createMemoryStore(hub),
      close: async () => {
        await Promise.all(stores.map((store) => store.close()));
      },
    };
  });
});
