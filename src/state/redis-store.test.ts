/**
 * The Redis store: the shared contract against a real redis-server and a real
 * 3-master Redis Cluster, then what happens when Redis goes away and comes back.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogSink } from '../../test/support/log-sink.js';
import { describeWithRedis, RedisCluster, RedisServer } from '../../test/support/redis.js';
import { waitFor } from '../../test/support/wait.js';
import { createLogger } from '../observe/logger.js';
import { fleetKeys } from './keys.js';
import { recordKey } from './records.js';
import { createRedisStore } from './redis-store.js';
import { Recorder, storeContract } from './store.contract.js';
import type { StateStore, StateUpdate } from './store.js';

const quiet = createLogger({ level: 'silent' });
let prefixCounter = 0;

function openPair(url: string, mode: 'standalone' | 'cluster') {
  return async () => {
    // A fresh key prefix per test: the same server, independent fleets.
    const settings = { redisUrl: url, mode, keyPrefix: `contract${++prefixCounter}:` } as const;
    const opened: StateStore[] = [];
    const open = async () => {
      const store = createRedisStore(settings, quiet);
      opened.push(store);
      await waitFor(() => store.connectivity().connected, 10_000, 'redis connection');
      return store;
    };
    const a = await open();
    const b = await open();
    return { a, b, join: open, close: async () => void (await Promise.all(opened.map((store) => store.close()))) };
  };
}

describeWithRedis('redis store', () => {
  describe('the StateStore contract on one redis-server', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await RedisServer.start();
    });
    afterAll(async () => {
      await redis.stop();
    });
    storeContract(() => openPair(redis.url, 'standalone')());
  });

  describe('the StateStore contract on a 3-master Redis Cluster', () => {
    let cluster: RedisCluster;
    beforeAll(async () => {
      cluster = await RedisCluster.start(3);
    }, 60_000);
    afterAll(async () => {
      await cluster.stop();
    });
    storeContract(() => openPair(cluster.url, 'cluster')());
  });

  describe('when a published update is lost', () => {
    it('re-reads the shared records periodically, so a replica that missed a message catches up', async () => {
      const redis = await RedisServer.start();
      const settings = { redisUrl: redis.url, mode: 'standalone', keyPrefix: 'lost:' } as const;
      const store = createRedisStore(settings, quiet, { antiEntropyMs: 200 });
      const seen = new Recorder();
      store.subscribe(seen);
      try {
        await waitFor(() => seen.resyncs.length > 0, 10_000, 'initial resync');
        // A trip that is in Redis but whose PUBLISH never reached this replica.
        const trip = { kind: 'trip', key: 'mirror/m', until: Date.now() + 60_000, reason: 'breaker' };
        execFileSync('redis-cli', ['-p', String(redis.port), 'HSET', fleetKeys('lost:').state, recordKey(trip as StateUpdate), JSON.stringify(trip)]);
        await waitFor(() => seen.resyncs.some((snapshot) => snapshot.some((update) => update.kind === 'trip')), 5000, 'the missed trip');
        expect(seen.updates).toEqual([]);
      } finally {
        await store.close();
        await redis.stop();
      }
    });
  });

  describe('when Redis goes away', () => {
    it('keeps working locally, logs the outage once, then resyncs and flushes what it published meanwhile', async () => {
      const redis = await RedisServer.start();
      const sink = new LogSink();
      const logger = createLogger({ destination: sink });
      const settings = { redisUrl: redis.url, mode: 'standalone', keyPrefix: 'outage:' } as const;
      const a = createRedisStore(settings, logger);
      const b = createRedisStore(settings, quiet);
      const seenByB = new Recorder();
      b.subscribe(seenByB);
      a.subscribe(new Recorder());
      try {
        await waitFor(() => a.connectivity().connected && b.connectivity().connected, 10_000, 'connections');
        await redis.kill();
        await waitFor(() => !a.connectivity().connected && !b.connectivity().connected, 5000, 'outage noticed');
        // Fire-and-forget publishes and failing leases must not throw into the request path.
        for (let index = 0; index < 50; index++) a.publish({ kind: 'trip', key: 'mirror/m', until: Date.now() + 60_000 + index, reason: 'breaker' });
        await expect(a.acquireLease('probe:mirror', 1000)).rejects.toThrow();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(sink.messages('state store unreachable: serving on local state until it returns')).toHaveLength(1);

        await redis.restart();
        await waitFor(() => a.connectivity().connected && b.connectivity().connected, 10_000, 'reconnection');
        // The trip published during the outage reaches the fleet once Redis is back.
        await waitFor(async () => (await b.snapshot()).some((update) => update.kind === 'trip'), 10_000, 'flushed trip');
        expect(sink.messages('state store connected').length).toBeGreaterThanOrEqual(2);
        await waitFor(() => seenByB.resyncs.length >= 2, 5000, 'B resynced after the outage');
      } finally {
        await a.close();
        await b.close();
        await redis.stop();
      }
    }, 30_000);
  });
});
