/**
 * The fleet store on Redis; the only ioredis import.
 *
 * - Records live in one hash; a Lua script writes a record and PUBLISHes it in
 *   one step, refusing to shorten a trip deadline (same rule as records.ts).
 * - Leases are `SET key replica NX PX ttl`, released only by their holder.
 * - Commands never queue while Redis is away (enableOfflineQueue: false): they
 *   fail at once, callers fall back to acting alone, and updates published in
 *   the meantime are kept (latest per record) and flushed when Redis returns,
 *   after a resync that reads everything the fleet wrote meanwhile.
 * - The store counts as connected only when the command connection is ready
 *   *and* the subscription is confirmed, and it resyncs after subscribing: an
 *   update published before that is in the snapshot, one published after it is
 *   delivered, so none falls into the gap between the two connections.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { StateSettings } from '../config/table.js';
import type { Logger } from '../observe/logger.js';
import { fleetKeys, redactRedisUrl } from './keys.js';
import { recordKey } from './records.js';
import type { Envelope, StateStore, StateUpdate, StoreConnectivity, StoreListener } from './store.js';

const PUBLISH_SCRIPT = `
local field, kind, record, envelope, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if kind == 'close' then
  redis.call('HDEL', KEYS[1], field)
else
  if kind == 'trip' then
    local current = redis.call('HGET', KEYS[1], field)
    if current then
      local stored = cjson.decode(current)
      if stored['kind'] == 'trip' and tonumber(stored['until']) >= tonumber(cjson.decode(record)['until']) then
        return 0
      end
    end
  end
  redis.call('HSET', KEYS[1], field, record)
end
redis.call('PUBLISH', channel, envelope)
return 1
`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const RESYNC_RETRY_MS = 250;

/**
 * Pub/sub is at-most-once: ioredis's Cluster client moves its subscription to
 * another node on its own, and a publish can fail while connected. So every
 * replica also re-reads the shared records this often, which bounds how long
 * a missed update can leave its view stale.
 */
export const ANTI_ENTROPY_MS = 5000;

/** While Redis is away, say so at most this often (not once per reconnect attempt or request). */
const OUTAGE_LOG_INTERVAL_MS = 30_000;

type Client = Redis | Cluster;
type ScriptedClient = Client & {
  pinroutePublish(key: string, ...args: string[]): Promise<number>;
  pinrouteRelease(key: string, holder: string): Promise<number>;
};

export interface RedisStoreOptions {
  /** How often to re-read the shared records (ANTI_ENTROPY_MS); tests shorten it. */
  readonly antiEntropyMs?: number;
}

export function createRedisStore(settings: StateSettings, logger: Logger, options: RedisStoreOptions = {}): StateStore {
  const replicaId = randomUUID();
  const keys = fleetKeys(settings.keyPrefix);
  const location = redactRedisUrl(settings.redisUrl);
  const client = connect(settings) as ScriptedClient;
  const subscriber = connect(settings);
  client.defineCommand('pinroutePublish', { numberOfKeys: 1, lua: PUBLISH_SCRIPT });
  client.defineCommand('pinrouteRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });

  let listener: StoreListener | null = null;
  let commandsReady = false;
  let subscribed = false;
  let connected = false;
  let since = Date.now();
  let lastError: string | null = null;
  let lastOutageLog = 0;
  let closing = false;
  const pending = new Map<string, StateUpdate>();

  const connectivity = (): StoreConnectivity => ({ kind: 'redis', connected, since, lastError, location });

  /** Re-derives `connected` from both connections; on becoming connected, catches up with the fleet. */
  const updateConnected = () => {
    const value = commandsReady && subscribed;
    if (connected === value) return;
    connected = value;
    since = Date.now();
    if (value) logger.info({ redis: location }, 'state store connected');
    else if (!closing) {
      logger.warn({ redis: location, error: lastError }, 'state store unreachable: serving on local state until it returns');
      lastOutageLog = Date.now();
    }
    listener?.onConnectivity?.(connectivity());
    if (value) void resync();
  };

  const send = async (update: StateUpdate): Promise<void> => {
    const envelope: Envelope = { origin: replicaId, update };
    await client.pinroutePublish(keys.state, recordKey(update), update.kind, JSON.stringify(update), JSON.stringify(envelope), keys.channel);
  };

  /** Catch up with what the fleet wrote while we were away, then tell it what we did meanwhile. */
  let resyncing = false;
  const resync = async (): Promise<void> => {
    if (resyncing) return;
    resyncing = true;
    try {
      const records = await client.hgetall(keys.state);
      const snapshot = Object.values(records).flatMap((text) => parseUpdate(text) ?? []);
      listener?.onResync(snapshot);
      for (const [key, update] of [...pending]) {
        await send(update);
        pending.delete(key);
      }
    } catch (error) {
      lastError = describe(error);
      // Redis can refuse the first commands after it comes back; a view that never caught up
      // would stay stale until the next change, so try again while we are connected.
      if (connected && !closing) setTimeout(() => void resync(), RESYNC_RETRY_MS).unref();
    } finally {
      resyncing = false;
    }
  };
  const antiEntropy = setInterval(() => {
    if (connected && listener) void resync();
  }, options.antiEntropyMs ?? ANTI_ENTROPY_MS);
  antiEntropy.unref();

  client.on('ready', () => {
    lastError = null;
    commandsReady = true;
    updateConnected();
  });
  client.on('close', () => {
    commandsReady = false;
    updateConnected();
  });
  client.on('error', (error: unknown) => {
    lastError = describe(error);
    if (connected || Date.now() - lastOutageLog < OUTAGE_LOG_INTERVAL_MS) return;
    lastOutageLog = Date.now();
    logger.warn({ redis: location, error: lastError }, 'state store still unreachable');
  });
  subscriber.on('error', () => {
    // Reported through the command connection; the subscriber reconnects and resubscribes on its own.
  });
  const subscribeToUpdates = () => {
    subscriber
      .subscribe(keys.channel)
      .then(() => {
        subscribed = true;
        updateConnected();
      })
      .catch((error: unknown) => {
        lastError = describe(error);
        if (subscriber.status === 'ready' && !closing) setTimeout(subscribeToUpdates, RESYNC_RETRY_MS).unref();
      });
  };
  subscriber.on('ready', subscribeToUpdates);
  subscriber.on('close', () => {
    subscribed = false;
    updateConnected();
  });
  subscriber.on('message', (_channel: string, message: string) => {
    const envelope = parseEnvelope(message);
    if (envelope && envelope.origin !== replicaId) listener?.onUpdate(envelope.update);
  });

  return {
    replicaId,
    publish(update) {
      if (closing) return;
      send(update).catch((error: unknown) => {
        lastError = describe(error);
        pending.set(recordKey(update), update);
      });
    },
    subscribe(next) {
      listener = next;
      if (connected) void resync();
    },
    async acquireLease(name, ttlMs) {
      const result = await client.set(keys.lease(name), replicaId, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
      return result === 'OK';
    },
    async releaseLease(name) {
      await client.pinrouteRelease(keys.lease(name), replicaId);
    },
    async snapshot() {
      const records = await client.hgetall(keys.state);
      return Object.values(records).flatMap((text) => parseUpdate(text) ?? []);
    },
    connectivity,
    async close() {
      closing = true;
      clearInterval(antiEntropy);
      await Promise.allSettled([client.quit(), subscriber.quit()]);
      client.disconnect();
      subscriber.disconnect();
    },
  };
}

function connect(settings: StateSettings): Client {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // Reconnect forever, backing off to one attempt every 2 s.
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
  };
  if (settings.mode === 'cluster') {
    const nodes = settings.redisUrl.split(',').map((url) => {
      const parsed = new URL(url.trim());
      return { host: parsed.hostname, port: Number(parsed.port || 6379) };
    });
    const first = new URL(settings.redisUrl.split(',')[0]?.trim() ?? 'redis://127.0.0.1');
    const auth = first.password ? { password: decodeURIComponent(first.password), ...(first.username ? { username: decodeURIComponent(first.username) } : {}) } : {};
    return new Cluster(nodes, {
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
      redisOptions: { ...options, ...auth },
    });
  }
  return new Redis(settings.redisUrl, options);
}

function parseUpdate(text: string): StateUpdate | null {
  try {
    const value = JSON.parse(text) as { kind?: unknown };
    return typeof value === 'object' && value !== null && typeof value.kind === 'string' ? (value as StateUpdate) : null;
  } catch {
    return null;
  }
}

function parseEnvelope(text: string): Envelope | null {
  try {
    const value = JSON.parse(text) as Partial<Envelope>;
    return typeof value.origin === 'string' && value.update && typeof value.update.kind === 'string' ? (value as Envelope) : null;
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
