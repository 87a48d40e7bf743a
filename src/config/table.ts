/**
 * The compiled, frozen routing table: everything the request path needs, with
 * defaults, backend and route overrides already merged, so a request never reads
 * raw config. A hot reload builds a new table and swaps the reference.
 */
import type {
  BackendType,
  BreakerPolicy,
  ProbePolicy,
  RetryPolicy,
  RevisionMismatchPolicy,
  Timeouts,
  VerifyRule,
} from './schema.js';

export interface CompiledBackend {
  readonly name: string;
  readonly type: BackendType;
  /** base_url without a trailing slash, e.g. http://vllm:8000/v1. */
  readonly baseUrl: string;
  /** scheme://host:port of base_url; upstream connections are pooled per origin. */
  readonly origin: string;
  /** Path part of base_url without a trailing slash, e.g. "/v1". */
  readonly basePath: string;
  /** base_url without its trailing /v1: where /health, /info, /api/tags live. */
  readonly serverRoot: string;
  /** Secret: never logged, never shown. Empty when the backend needs no key. */
  readonly apiKey: string;
  readonly extraHeaders: Readonly<Record<string, string>>;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  readonly probe: ProbePolicy;
  readonly verify: VerifyRule | null;
  /** Equal fingerprints mean a reload may keep this backend's pool and probe state. */
  readonly fingerprint: string;
}

export interface CompiledTarget {
  readonly route: string;
  /** Position in the route's fallback order, 0-based. */
  readonly index: number;
  readonly backend: CompiledBackend;
  readonly model: string;
  readonly revision: string;
  /** False for `revision: unpinned`. */
  readonly pinned: boolean;
  /** Identity of breaker and revision state: one upstream deployment, whatever routes use it. */
  readonly stateKey: string;
  readonly timeouts: Timeouts;
  readonly retry: RetryPolicy;
  readonly breaker: BreakerPolicy;
  readonly onRevisionMismatch: RevisionMismatchPolicy;
}

export interface CompiledRoute {
  readonly name: string;
  readonly targets: readonly CompiledTarget[];
  /** Bound of the whole failover chain (timeouts.total_ms of the route). */
  readonly totalMs: number;
  readonly targetByBackend: ReadonlyMap<string, CompiledTarget>;
}

export interface ServerSettings {
  readonly host: string;
  readonly port: number;
  /** Non-empty client keys; empty means no client authentication. */
  readonly apiKeys: readonly string[];
  readonly adminKey: string;
  readonly maxBodyBytes: number;
  readonly maxJsonDepth: number;
  readonly shutdownGraceMs: number;
}

export interface StateSettings {
  readonly redisUrl: string;
  readonly mode: 'standalone' | 'cluster';
  readonly keyPrefix: string;
}

export interface RoutingTable {
  readonly server: ServerSettings;
  readonly state: StateSettings;
  readonly backends: ReadonlyMap<string, CompiledBackend>;
  readonly routes: ReadonlyMap<string, CompiledRoute>;
  /** Sorted, for /v1/models and "unknown model" messages. */
  readonly routeNames: readonly string[];
  /** Every distinct upstream deployment (backend + model), for probes and status. */
  readonly targetsByStateKey: ReadonlyMap<string, readonly CompiledTarget[]>;
}
