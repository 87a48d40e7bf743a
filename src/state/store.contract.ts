/**
 * The behaviour every StateStore must have, as one suite run against each
 * implementation (memory-store.test.ts, redis-store.test.ts): what replicas see
 * of each other's updates, extend-only trips, single-holder leases, resync.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { waitFor, sleep } from '../../test/support/wait.js';
import type { StateStore, StateUpdate, StoreListener } from './store.js';

export interface StorePair {
  /** Two replicas of one fleet. */
  readonly a: StateStore;
  readonly b: StateStore;
  /** A third replica joining later. */
  join(): Promise<StateStore>;
  close(): Promise<void>;
}

export class Recorder implements StoreListener {
  readonly updates: StateUpdate[] = [];
  readonly resyncs: (readonly StateUpdate[])[] = [];
  onUpdate(update: StateUpdate): void {
    this.updates.push(update);
  }
  onResync(snapshot: readonly StateUpdate[]): void {
    this.resyncs.push(snapshot);
  }
}

const health = (backend: string, up: boolean): StateUpdate => ({ kind: 'health', backend, up, checkedAt: Date.now(), latencyMs: 3, error: up ? null : 'down' });

export function storeContract(open: () => Promise<StorePair>): void {
  let pair: StorePair;
  let seenByA: Recorder;
  let seenByB: Recorder;

  beforeEach(async () => {
    pair = await open();
    seenByA = new Recorder();
    seenByB = new Recorder();
    pair.a.subscribe(seenByA);
    pair.b.subscribe(seenByB);
    await waitFor(() => seenByA.resyncs.length > 0 && seenByB.resyncs.length > 0, 5000, 'initial resync');
  });

  afterEach(async () => {
    await pair.close();
  });

  it('delivers an update to the other replicas, not back to its publisher', async () => {
    pair.a.publish(health('mirror', false));
    await waitFor(() => seenByB.updates.length === 1, 5000, 'delivery');
    expect(seenByB.updates[0]).toMatchObject({ kind: 'health', backend: 'mirror', up: false });
    await sleep(50);
    expect(seenByA.updates).toEqual([]);
  });

  it('extends a trip deadline but never shortens it', async () => {
    const now = Date.now();
    pair.a.publish({ kind: 'trip', key: 'mirror/m', until: now + 60_000, reason: 'breaker' });
    await waitFor(() => seenByB.updates.length === 1, 5000, 'first trip');
    pair.a.publish({ kind: 'trip', key: 'mirror/m', until: now + 30_000, reason: 'rate_limited' });
    pair.a.publish({ kind: 'trip', key: 'mirror/m', until: now + 90_000, reason: 'rate_limited' });
    await waitFor(() => seenByB.updates.length === 2, 5000, 'extension');
    await sleep(50);
    expect(seenByB.updates.map((update) => (update.kind === 'trip' ? update.until - now : null))).toEqual([60_000, 90_000]);
    const trips = (await pair.b.snapshot()).filter((update) => update.kind === 'trip');
    expect(trips).toHaveLength(1);
    expect(trips[0]).toMatchObject({ until: now + 90_000 });
  });

  it('forgets a trip when the target closes', async () => {
    pair.a.publish({ kind: 'trip', key: 'mirror/m', until: Date.now() + 60_000, reason: 'breaker' });
    pair.a.publish({ kind: 'close', key: 'mirror/m', at: Date.now() });
    await waitFor(() => seenByB.updates.length === 2, 5000, 'close');
    expect((await pair.b.snapshot()).filter((update) => update.kind === 'trip')).toEqual([]);
  });

  it('gives a lease to one replica at a time, until it expires or its holder releases it', async () => {
    expect(await pair.a.acquireLease('trial:mirror/m', 300)).toBe(true);
    expect(await pair.b.acquireLease('trial:mirror/m', 300)).toBe(false);
    expect(await pair.a.acquireLease('trial:mirror/m', 300)).toBe(false);
    await pair.b.releaseLease('trial:mirror/m'); // not the holder: no effect
    expect(await pair.b.acquireLease('trial:mirror/m', 300)).toBe(false);
    await sleep(350);
    expect(await pair.b.acquireLease('trial:mirror/m', 10_000)).toBe(true);
    await pair.b.releaseLease('trial:mirror/m');
    expect(await pair.a.acquireLease('trial:mirror/m', 300)).toBe(true);
  });

  it('hands a joining replica everything the fleet holds', async () => {
    pair.a.publish(health('mirror', true));
    pair.a.publish({ kind: 'revision', key: 'mirror/m', status: 'mismatch', observed: 'abc', checkedAt: Date.now(), detail: 'x', source: 'probe' });
    await waitFor(() => seenByB.updates.length === 2, 5000, 'records');
    const late = await pair.join();
    const recorder = new Recorder();
    late.subscribe(recorder);
    await waitFor(() => recorder.resyncs.length > 0, 5000, 'resync of the new replica');
    expect(recorder.resyncs[0]?.map((update) => update.kind).sort()).toEqual(['health', 'revision']);
    await late.close();
  });

  it('delivers every update published after a joining replica has resynced', async () => {
    // Once a replica has reported connected and caught up, it must be listening:
    // an update published after its snapshot cannot be in it, so it has to arrive.
    const late = await pair.join();
    const recorder = new Recorder();
    late.subscribe(recorder);
    await waitFor(() => recorder.resyncs.length > 0, 5000, 'resync of the new replica');
    pair.a.publish(health('mirror', false));
    await waitFor(() => recorder.updates.length === 1, 5000, 'the update reaching the new replica');
    await late.close();
  });

  it('reports its connectivity', () => {
    expect(pair.a.connectivity().connected).toBe(true);
    expect(pair.a.connectivity().location).not.toMatch(/:[^/@]*@/);
  });
}
