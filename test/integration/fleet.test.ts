/**
 * SPEC §5 across replicas: two gateway processes sharing one real Redis act as
 * one. A trip on one keeps the other off the target; a flapping primary gets at
 * most one trial per reset_ms from the whole fleet; each backend is probed once
 * per interval fleet-wide; and a Redis outage costs no client request.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import { writeConfig } from '../support/start-gateway.js';
import { sleep, waitFor } from '../support/wait.js';

const messages = [{ role: 'user' as const, content: 'hi' }];

describeWithRedis('a fleet of two gateways sharing Redis', () => {
  let redis: RedisServer;
  let primary: FakeUpstream;
  let secondary: FakeUpstream;
  let replicas: GatewayProcess[] = [];
  let fleet = 0;

  beforeAll(async () => {
    redis = await RedisServer.start();
    primary = await FakeUpstream.start();
    secondary = await FakeUpstream.start();
  });

  afterEach(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    replicas = [];
    primary.reset();
    secondary.reset();
  });

  afterAll(async () => {
    await primary.close();
    await secondary.close();
    await redis.stop();
  });

  async function startFleet(options: { resetMs?: number; probeMs?: number } = {}): Promise<[GatewayProcess, GatewayProcess]> {
    const config = await writeConfig({
      state: { redis_url: redis.url, key_prefix: `fleet${++fleet}:` },
      defaults: {
        timeouts: { connect_ms: 500, first_byte_ms: 2000, idle_ms: 2000, total_ms: 8000 },
        breaker: { error_threshold_pct: 50, min_requests: 2, window_ms: 10_000, reset_ms: options.resetMs ?? 60_000 },
        probe: { interval_ms: options.probeMs ?? 60_000, timeout_ms: 500 },
      },
      backends: {
        primary: { type: 'openai-compatible', base_url: primary.url },
        secondary: { type: 'openai-compatible', base_url: secondary.url },
      },
      routes: { chat: [{ backend: 'primary', model: 'p', revision: 'rev-a' }, { backend: 'secondary', model: 's', revision: 'rev-b' }] },
    });
    replicas = await Promise.all([GatewayProcess.start(config), GatewayProcess.start(config)]);
    return replicas as [GatewayProcess, GatewayProcess];
  }

  async function attempts(replica: GatewayProcess): Promise<string | null> {
    const { response } = await replica.client().chat.completions.create({ model: 'chat', messages }).withResponse();
    return response.headers.get('x-pinroute-attempts');
  }

  it('a breaker tripped on replica A keeps replica B off that target until the deadline', async () => {
    primary.setDefault({ kind: 'status', status: 500 });
    const [a, b] = await startFleet({ resetMs: 2500 });
    expect(await attempts(a)).toBe('primary=500, secondary=200');
    expect(await attempts(a)).toBe('primary=500, secondary=200');
    const tripped = Date.now();
    // B has never failed against primary itself; only the shared trip can keep it off.
    await waitFor(async () => (await attempts(b)) === 'primary=breaker_open, secondary=200', 3000, 'B sees the trip');
    for (let index = 0; index < 10; index++) expect(await attempts(b)).toBe('primary=breaker_open, secondary=200');
    expect(primary.hits).toBe(2);
    expect(Date.now() - tripped).toBeLessThan(2500);

    primary.setDefault({ kind: 'ok' });
    // Traffic to both replicas: whichever holds the fleet's trial lease sends the one trial.
    await waitFor(async () => {
      const [fromA, fromB] = await Promise.all([attempts(a), attempts(b)]);
      return fromA === 'primary=200' && fromB === 'primary=200';
    }, 8000, 'fleet closes after the deadline');
  });

  it('a flapping primary gets at most one trial request per reset_ms from the whole fleet', async () => {
    const resetMs = 700;
    primary.setDefault({ kind: 'status', status: 503 });
    const [a, b] = await startFleet({ resetMs });
    await attempts(a);
    await attempts(a);
    const start = Date.now();
    const hitsAtTrip = primary.hits;
    // Steady traffic to both replicas for a bounded time.
    const deadline = start + 5 * resetMs;
    let sent = 0;
    while (Date.now() < deadline && sent < 400) {
      await Promise.all([attempts(a), attempts(b)]);
      sent += 2;
    }
    const trials = primary.hits - hitsAtTrip;
    const windows = Math.ceil((Date.now() - start) / resetMs);
    expect(trials).toBeGreaterThanOrEqual(1);
    expect(trials).toBeLessThanOrEqual(windows);
    expect(sent).toBeGreaterThan(20);
  });

  it('each backend is probed once per interval by the fleet, not once per replica', async () => {
    const probeMs = 400;
    await startFleet({ probeMs });
    primary.reset();
    const start = Date.now();
    await sleep(10 * probeMs);
    const elapsedIntervals = (Date.now() - start) / probeMs;
    const healthProbes = primary.probeHits('/v1/models');
    expect(healthProbes).toBeGreaterThanOrEqual(Math.floor(elapsedIntervals * 0.6));
    expect(healthProbes).toBeLessThanOrEqual(Math.ceil(elapsedIntervals) + 1);
  });

  it('loses no client request when Redis dies mid-traffic, and shares state again once it is back', async () => {
    const [a, b] = await startFleet({ resetMs: 60_000 });
    let failures = 0;
    let sent = 0;
    const traffic = (async () => {
      const stopAt = Date.now() + 4000;
      while (Date.now() < stopAt && sent < 2000) {
        await Promise.all(
          [a, b].map((replica) =>
            replica
              .client()
              .chat.completions.create({ model: 'chat', messages })
              .then(
                () => undefined,
                () => void failures++,
              ),
          ),
        );
        sent += 2;
      }
    })();
    await sleep(800);
    await redis.kill();
    await sleep(1500);
    await redis.restart();
    await traffic;
    expect(failures).toBe(0);
    expect(sent).toBeGreaterThan(50);
    expect(a.logs('state store unreachable: serving on local state until it returns')).toHaveLength(1);

    // Shared again: a trip on A reaches B.
    await waitFor(async () => {
      const status = (await (await fetch(`${a.url}/admin/status`)).json()) as { state_store: { connected: boolean } };
      return status.state_store.connected;
    }, 10_000, 'A reconnects');
    await waitFor(async () => {
      const status = (await (await fetch(`${b.url}/admin/status`)).json()) as { state_store: { connected: boolean } };
      return status.state_store.connected;
    }, 10_000, 'B reconnects');
    // A's breaker window is full of successes now; a 429 with a long retry-after trips it at once.
    primary.script({ kind: 'status', status: 429, headers: { 'retry-after': '30' } });
    expect(await attempts(a)).toBe('primary=429, secondary=200');
    await waitFor(async () => (await attempts(b)) === 'primary=breaker_open, secondary=200', 5000, 'B sees the cooldown after recovery');
  }, 40_000);
});
