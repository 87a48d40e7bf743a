/**
 * Redis key names. Every key of one fleet carries the same hash tag (the
 * `{...}` part, Redis Cluster spec §"Hash tags"), so all of a fleet's keys live
 * in one slot: the same code, and any multi-key script, works on a single Redis
 * and on a Redis Cluster. The state is small; one slot is plenty.
 */
export interface FleetKeys {
  /** Hash of records: field = recordKey(update), value = the update as JSON. */
  readonly state: string;
  /** Pub/sub channel for updates (not a key; Cluster broadcasts it to every node). */
  readonly channel: string;
  lease(name: string): string;
}

export function fleetKeys(prefix: string): FleetKeys {
  const tag = `{${prefix}}`;
  return {
    state: `${tag}state`,
    channel: `${prefix}events`,
    lease: (name) => `${tag}lease:${name}`,
  };
}

/** A Redis URL without its credentials, for logs and status pages. */
export function redactRedisUrl(url: string): string {
  return url
    .split(',')
    .map((part) => {
      try {
        const parsed = new URL(part.trim());
        return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
      } catch {
        return 'redis://(unparseable url)';
      }
    })
    .join(',');
}
