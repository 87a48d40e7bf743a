/**
 * Client and admin keys. Keys are compared as SHA-256 digests with
 * timingSafeEqual, so neither the key's content nor its length leaks through
 * response timing; every configured key is compared on every request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RoutingTable } from '../config/table.js';

export class KeyRing {
  private readonly digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.filter((key) => key !== '').map(digest);
  }

  get required(): boolean {
    return this.digests.length > 0;
  }

  /** True when no keys are configured, or the request presents one of them. */
  admits(headers: IncomingHttpHeaders): boolean {
    if (this.digests.length === 0) return true;
    const presented = presentedKey(headers);
    if (presented === null) return false;
    const candidate = digest(presented);
    let match = false;
    for (const known of this.digests) match = timingSafeEqual(known, candidate) || match;
    return match;
  }
}

/** `Authorization: Bearer <key>`, or `x-api-key` / `api-key` as some SDKs send. */
function presentedKey(headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization);
    return match?.[1]?.trim() ?? null;
  }
  const apiKey = headers['x-api-key'] ?? headers['api-key'];
  return typeof apiKey === 'string' ? apiKey : null;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

const keyRings = new WeakMap<RoutingTable, { client: KeyRing; admin: KeyRing }>();

function keyRingsOf(table: RoutingTable): { client: KeyRing; admin: KeyRing } {
  let rings = keyRings.get(table);
  if (!rings) {
    rings = { client: new KeyRing(table.server.apiKeys), admin: new KeyRing([table.server.adminKey]) };
    keyRings.set(table, rings);
  }
  return rings;
}

/** The client keys of a table, digested once per table rather than per request. */
export function clientKeysOf(table: RoutingTable): KeyRing {
  return keyRingsOf(table).client;
}

export function adminKeysOf(table: RoutingTable): KeyRing {
  return keyRingsOf(table).admin;
}
