/**
 * Connections to upstreams; the only undici import. One keep-alive pool per
 * backend, kept across hot reloads while the backend's fingerprint (url, key,
 * limits) is unchanged, so a reload never drops warm connections.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool, request as undiciRequest } from 'undici';
import type { CompiledBackend, RoutingTable } from '../config/table.js';

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query, e.g. /v1/chat/completions. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

export type UpstreamHeaders = IncomingHttpHeaders;

/** undici's dispatch controller, as much of it as we use. */
export interface UpstreamController {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

/** undici's dispatch handler (undici ≥ 7): the response, event by event, without a stream. */
export interface ResponseHandler {
  onRequestStart(controller: UpstreamController, context: unknown): void;
  onResponseStart(controller: UpstreamController, statusCode: number, headers: UpstreamHeaders, statusMessage?: string): void;
  onResponseData(controller: UpstreamController, chunk: Buffer): void;
  onResponseEnd(controller: UpstreamController, trailers: UpstreamHeaders): void;
  onResponseError(controller: UpstreamController, error: Error): void;
}

/** Stable codes for failures before a response arrived (undici's own codes, narrowed). */
export type ConnectFailure = 'connect_timeout' | 'connect_error' | 'aborted';

export class UpstreamPools {
  private readonly pools = new Map<string, { fingerprint: string; pool: Pool }>();

  /** Opens pools for new backends and closes pools of removed or changed ones. */
  sync(table: RoutingTable): void {
    for (const backend of table.backends.values()) {
      const existing = this.pools.get(backend.name);
      if (existing?.fingerprint === backend.fingerprint) continue;
      if (existing) void existing.pool.close().catch(() => {});
      this.pools.set(backend.name, { fingerprint: backend.fingerprint, pool: createPool(backend) });
    }
    for (const [name, entry] of this.pools) {
      if (!table.backends.has(name)) {
        void entry.pool.close().catch(() => {});
        this.pools.delete(name);
      }
    }
  }

  dispatch(backend: CompiledBackend, request: UpstreamRequest, handler: ResponseHandler): void {
    let entry = this.pools.get(backend.name);
    if (!entry || entry.fingerprint !== backend.fingerprint) {
      // A request planned on the previous table may still reach a replaced backend.
      entry = { fingerprint: backend.fingerprint, pool: createPool(backend) };
      this.pools.set(backend.name, entry);
    }
    entry.pool.dispatch(
      {
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body ?? null,
        // Our own watchdog (upstream/exchange.ts) owns first-byte and idle deadlines.
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      handler,
    );
  }

  async close(): Promise<void> {
    const closing = [...this.pools.values()].map((entry) => entry.pool.close().catch(() => {}));
    this.pools.clear();
    await Promise.all(closing);
  }

  /** Force-closes every connection (end of the shutdown grace period). */
  async destroy(): Promise<void> {
    const destroying = [...this.pools.values()].map((entry) => entry.pool.destroy().catch(() => {}));
    this.pools.clear();
    await Promise.all(destroying);
  }
}

function createPool(backend: CompiledBackend): Pool {
  return new Pool(backend.origin, {
    connections: backend.maxConnections,
    connect: { timeout: backend.connectTimeoutMs },
    keepAliveTimeout: 4000,
    pipelining: 1,
  });
}

/** Maps an error thrown before a response arrived to a stable failure code. */
export function classifyConnectFailure(error: unknown): ConnectFailure {
  const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect_timeout';
  if (code === 'UND_ERR_ABORTED' || (error instanceof Error && error.name === 'AbortError')) return 'aborted';
  return 'connect_error';
}

const PROBE_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/** One short GET for probes and `pinroute verify`, bounded in time and size. */
export async function probeGet(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const response = await undiciRequest(url, {
    method: 'GET',
    headers,
    signal: AbortSignal.timeout(timeoutMs),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > PROBE_BODY_LIMIT_BYTES) {
      response.body.destroy();
      throw new Error(`probe body larger than ${PROBE_BODY_LIMIT_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return { status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') };
}
