/**
 * The system under fire, all real: one redis-server, two scripted loopback
 * upstreams and two `pinroute serve` processes sharing that Redis and one
 * routes.config.yaml. Route `chat` = [primary (vLLM, pinned by its
 * served-model-name), secondary (openai-compatible)]; faults strike the primary
 * and the infrastructure, never the secondary, so "at least one target of the
 * route is healthy" holds throughout.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { statusDocumentSchema, type StatusDocument } from '../../src/observe/status-schema.js';
import { FakeUpstream, type Behavior } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { RedisServer } from '../support/redis.js';
import { writeConfig } from '../support/start-gateway.js';
import { Balancer } from './balancer.js';
import { trackChild, untrackChild } from './children.js';
import { LONG_STREAM_USER } from './load.js';
import type { ChaosProfile } from './profile.js';

export const PINNED_SHA = '0e9e39f249a16976918f6564b8830bc894c89659';
export const RESYNCED_SHA = '5f0b02c75b57c5855da9ae460ce51323ea669d38';
export const PRIMARY_MODEL = `llama-3.1-8b@${PINNED_SHA}`;
export const STREAM_CHUNKS = 4;
export const STREAM_INTERVAL_MS = 10;
export const LONG_STREAM_CHUNKS = 30;
export const LONG_STREAM_INTERVAL_MS = 50;

/** What a healthy upstream does: short streams for streamed requests, a JSON answer otherwise. */
export const HEALTHY: Behavior = {
  kind: 'split',
  stream: { kind: 'stream', chunks: STREAM_CHUNKS, intervalMs: STREAM_INTERVAL_MS },
  plain: { kind: 'ok' },
};

export interface FleetReplica {
  readonly name: string;
  process: GatewayProcess;
}

/** Per-request log lines are dropped: a long run would otherwise hold hundreds of MB of them. */
const keepLine = (line: string): boolean => !line.includes('"msg":"request"');

export class Fleet {
  readonly balancer = new Balancer();
  readonly replicas: FleetReplica[] = [];

  private constructor(
    readonly profile: ChaosProfile,
    readonly redis: RedisServer,
    readonly primary: FakeUpstream,
    readonly secondary: FakeUpstream,
    readonly configFile: string,
    readonly baseConfig: object,
  ) {}

  static async start(profile: ChaosProfile): Promise<Fleet> {
    const redis = await RedisServer.start();
    trackChild(redis);
    const primary = await FakeUpstream.start({ servedModel: PRIMARY_MODEL });
    const secondary = await FakeUpstream.start();
    for (const upstream of [primary, secondary]) {
      upstream.setDefault(HEALTHY);
      upstream.when((request) => request.json?.['user'] === LONG_STREAM_USER, {
        kind: 'stream',
        chunks: LONG_STREAM_CHUNKS,
        intervalMs: LONG_STREAM_INTERVAL_MS,
      });
    }
    const config = fleetConfig(profile, redis.url, primary.url, secondary.url);
    const configFile = await writeConfig(config);
    const fleet = new Fleet(profile, redis, primary, secondary, configFile, config);
    for (const name of ['A', 'B']) await fleet.startReplica(name);
    return fleet;
  }

  replica(name: string): FleetReplica {
    const replica = this.replicas.find((candidate) => candidate.name === name);
    if (!replica) throw new Error(`no replica ${name}`);
    return replica;
  }

  /** Starts (or restarts) replica `name` and puts it in rotation. */
  async startReplica(name: string): Promise<FleetReplica> {
    const existing = this.replicas.find((candidate) => candidate.name === name);
    // A replica that ignored its SIGTERM is not left behind untracked.
    if (existing?.process.running) await existing.process.stop();
    const process = await GatewayProcess.start(this.configFile, {}, { keepLine });
    trackChild(process);
    if (existing) {
      untrackChild(existing.process);
      existing.process = process;
    } else {
      this.replicas.push({ name, process });
    }
    this.balancer.replace({ name, url: process.url });
    return this.replica(name);
  }

  async writeConfigText(text: string): Promise<void> {
    await writeFile(this.configFile, text);
  }

  baseConfigText(): string {
    return stringify(this.baseConfig);
  }

  async currentConfigText(): Promise<string> {
    return readFile(this.configFile, 'utf8');
  }

  async status(replica: FleetReplica): Promise<StatusDocument | null> {
    try {
      const response = await fetch(`${replica.process.url}/admin/status`, { signal: AbortSignal.timeout(2000) });
      return statusDocumentSchema.parse(await response.json());
    } catch {
      return null;
    }
  }

  async metrics(replica: FleetReplica): Promise<string> {
    try {
      return await (await fetch(`${replica.process.url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    } catch {
      return '';
    }
  }

  async alive(replica: FleetReplica): Promise<boolean> {
    try {
      return (await fetch(`${replica.process.url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      return false;
    }
  }

  /** Every running replica would use the primary now, with its pin verified and Redis connected. */
  async primaryUsableEverywhere(): Promise<boolean> {
    for (const replica of this.replicas) {
      const status = await this.status(replica);
      const primary = status?.routes.find((route) => route.name === 'chat')?.targets.find((target) => target.backend === 'primary');
      if (!status?.state_store.connected || !primary?.usable || primary.breaker !== 'closed' || primary.revision.status !== 'verified') return false;
    }
    return true;
  }

  /** Waits until the fleet uses the primary again; the time it took, or null past `limitMs`. */
  async waitForRecovery(limitMs: number): Promise<number | null> {
    const started = Date.now();
    while (Date.now() - started < limitMs) {
      if (await this.primaryUsableEverywhere()) return Date.now() - started;
      await sleep(100);
    }
    return null;
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.process.stop()));
    await Promise.allSettled([this.primary.close(), this.secondary.close()]);
    await this.redis.stop();
    for (const replica of this.replicas) untrackChild(replica.process);
    untrackChild(this.redis);
  }
}

function fleetConfig(profile: ChaosProfile, redisUrl: string, primaryUrl: string, secondaryUrl: string): object {
  return {
    server: { host: '127.0.0.1', port: 0, api_keys: [], shutdown_grace_ms: profile.shutdownGraceMs },
    state: { redis_url: redisUrl, key_prefix: 'chaos:' },
    defaults: { timeouts: profile.timeouts, retry: profile.retry, breaker: profile.breaker, probe: profile.probe },
    backends: {
      primary: { type: 'vllm', base_url: primaryUrl },
      secondary: { type: 'openai-compatible', base_url: secondaryUrl },
    },
    routes: {
      chat: [
        { backend: 'primary', model: PRIMARY_MODEL, revision: PINNED_SHA },
        { backend: 'secondary', model: 'llama3.1:8b-instruct-q8_0', revision: 'sha256:46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e' },
      ],
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
