/**
 * The gateway the fuzzers hit: a real `pinroute serve` process with client keys
 * and small body limits (so "too large" is cheap to reach), in front of a
 * healthy scripted upstream. Separate from the chaos fleet, so fuzz traffic
 * does not blur the fault figures.
 */
import { stringify } from 'yaml';
import { FakeUpstream } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { writeConfig } from '../support/start-gateway.js';
import { trackChild, untrackChild } from './children.js';

export const FUZZ_CLIENT_KEY = 'fuzz-client-key-0123456789';
export const FUZZ_MAX_BODY_BYTES = 64 * 1024;
export const FUZZ_MAX_JSON_DEPTH = 64;
export const FUZZ_ROUTES = ['chat', 'embed'] as const;
export const FUZZ_BACKENDS = ['one', 'two'] as const;

/** What a non-streamed answer of the upstream says (FakeUpstream's default). */
export const UPSTREAM_CONTENT = 'Hello from the fake upstream';

export class FuzzTarget {
  private constructor(
    readonly upstream: FakeUpstream,
    readonly gateway: GatewayProcess,
    readonly configFile: string,
    readonly baseConfigText: string,
    /** The gateway's whole environment: parse configs in-process with exactly this. */
    readonly env: Record<string, string>,
  ) {}

  static async start(): Promise<FuzzTarget> {
    const upstream = await FakeUpstream.start();
    const text = stringify(fuzzConfig(upstream.url));
    const configFile = await writeConfig(text);
    const extra = { FUZZ_CLIENT_KEY };
    const gateway = await GatewayProcess.start(configFile, extra, { keepLine: (line) => !line.includes('"msg":"request"') });
    trackChild(gateway);
    const env = { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info', ...extra };
    return new FuzzTarget(upstream, gateway, configFile, text, env);
  }

  get url(): string {
    return this.gateway.url;
  }

  async alive(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    await this.gateway.stop();
    untrackChild(this.gateway);
    await this.upstream.close();
  }
}

function fuzzConfig(upstreamUrl: string): object {
  return {
    server: {
      host: '127.0.0.1',
      port: 0,
      api_keys: ['${FUZZ_CLIENT_KEY}'],
      admin_key: '${FUZZ_ADMIN_KEY:-}',
      max_body_bytes: FUZZ_MAX_BODY_BYTES,
      max_json_depth: FUZZ_MAX_JSON_DEPTH,
      shutdown_grace_ms: 2000,
    },
    defaults: {
      timeouts: { connect_ms: 500, first_byte_ms: 2000, idle_ms: 2000, total_ms: 4000 },
      retry: { attempts: 1, backoff_ms: 10, max_retry_after_ms: 500 },
      breaker: { error_threshold_pct: 50, min_requests: 20, window_ms: 10_000, reset_ms: 1000 },
      probe: { interval_ms: 5000, timeout_ms: 1000 },
      on_revision_mismatch: 'skip',
    },
    backends: {
      one: { type: 'openai-compatible', base_url: upstreamUrl, api_key: '${ONE_KEY:-}', max_connections: 32 },
      two: { type: 'openai-compatible', base_url: upstreamUrl, headers: { 'x-org': 'fuzz' } },
    },
    routes: {
      chat: [
        { backend: 'one', model: 'm-one', revision: 'rev-1' },
        { backend: 'two', model: 'm-two', revision: 'rev-2' },
      ],
      embed: { targets: [{ backend: 'two', model: 'e-two', revision: 'unpinned' }], timeouts: { total_ms: 3000 }, on_revision_mismatch: 'fail' },
    },
  };
}
