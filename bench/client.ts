/**
 * A sequential client (concurrency 1) that times every request precisely:
 * time to the first body chunk (the first SSE event) and to the end, and the
 * longest gap between chunks (a buffered stream shows first ≈ total).
 * Used for the streaming figures, and for c=1 latency when the load generator
 * only has millisecond resolution (autocannon).
 */
import { Agent, request } from 'node:http';
import type { Endpoint } from './load.js';

export interface Timing {
  readonly firstChunkMs: number;
  readonly totalMs: number;
  readonly maxGapMs: number;
  readonly bytes: number;
}

export interface SequentialResult {
  readonly timings: readonly Timing[];
  readonly elapsedMs: number;
  readonly failures: number;
  readonly firstFailure: string | null;
}

/** A request not finished by then counts as a failure (the longest healthy one here, a paced stream, takes ~110 ms). */
const REQUEST_TIMEOUT_MS = 2000;

/** Sends `body` to `endpoint` one request at a time, `count` times or until `maxMs` ran out. */
export async function sequential(endpoint: Endpoint, body: string, count: number, maxMs: number): Promise<SequentialResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const payload = Buffer.from(body);
  const headers = { ...endpoint.headers, 'content-type': 'application/json', 'content-length': String(payload.length) };
  const timings: Timing[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  const started = performance.now();
  try {
    for (let index = 0; index < count && performance.now() - started < maxMs; index++) {
      try {
        timings.push(await once(agent, endpoint, headers, payload));
      } catch (error) {
        failures++;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  } finally {
    agent.destroy();
  }
  return { timings, elapsedMs: performance.now() - started, failures, firstFailure };
}

function once(agent: Agent, endpoint: Endpoint, headers: Record<string, string>, payload: Buffer): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const sentAt = performance.now();
    let firstAt = 0;
    let lastAt = 0;
    let maxGapMs = 0;
    let bytes = 0;
    const outgoing = request(
      { agent, host: '127.0.0.1', port: endpoint.port, path: endpoint.path, method: 'POST', headers, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`status ${response.statusCode} (${response.headers['x-pinroute-attempts'] ?? ''})`));
          return;
        }
        response.on('data', (chunk: Buffer) => {
          const now = performance.now();
          if (bytes === 0) firstAt = now;
          else maxGapMs = Math.max(maxGapMs, now - lastAt);
          lastAt = now;
          bytes += chunk.length;
        });
        response.once('end', () => resolve({ firstChunkMs: firstAt - sentAt, totalMs: performance.now() - sentAt, maxGapMs, bytes }));
        response.once('error', reject);
      },
    );
    outgoing.once('timeout', () => outgoing.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    outgoing.once('error', reject);
    outgoing.end(payload);
  });
}

export interface SingleAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** One POST on a fresh connection (startup polling, checks). */
export function postOnce(endpoint: Endpoint, body: string, timeoutMs = 5000): Promise<SingleAnswer> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(body);
    const outgoing = request(
      {
        agent: false,
        host: '127.0.0.1',
        port: endpoint.port,
        path: endpoint.path,
        method: 'POST',
        headers: { ...endpoint.headers, 'content-type': 'application/json', 'content-length': String(payload.length), connection: 'close' },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.once('error', reject);
      },
    );
    outgoing.once('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.once('error', reject);
    outgoing.end(payload);
  });
}
