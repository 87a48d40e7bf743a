/**
 * The steady load: a bounded number of concurrent official OpenAI SDK clients,
 * each sending chat completions (streamed or not, seeded mix) through the
 * balancer, one after another. Every request becomes a RequestRecord that says
 * how it ended for the client: ok, an explicit SSE error event, or a failure
 * (an HTTP error, a cut or hung connection, a stream that ended without an error
 * but also without `data: [DONE]`, a wrong model, an answer later than total_ms).
 *
 * The SDK does the talking; a tap in its `fetch` sees the raw bytes, so "the
 * stream looked complete but was truncated" is judged on the wire, not on what
 * the SDK chose to surface.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { Balancer, fetchFailureCode, type Replica } from './balancer.js';

export type Outcome = 'ok' | 'error_event' | 'failure';

export interface RequestRecord {
  readonly id: string;
  readonly phase: string;
  readonly stream: boolean;
  readonly startedAt: number;
  readonly replica: string | null;
  /** Epoch ms when the response headers arrived. */
  readonly headersAt: number | null;
  readonly endedAt: number;
  readonly outcome: Outcome;
  /** What went wrong, for failures. */
  readonly failure: string | null;
  /** The `code` of an SSE error event. */
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly servedBy: string | null;
  readonly attempts: string | null;
}

/** Mutable bookkeeping while a request runs; the fetch tap fills it in. */
interface Pending {
  readonly id: string;
  /** The phase it is counted in: where it started, or the fault that struck while it was in flight. */
  phase: string;
  readonly pinned: Replica | null;
  replica: string | null;
  headersAt: number | null;
  /** The body's last bytes: a stream must end with `data: [DONE]` or an error event. */
  tail: string;
  hung: boolean;
}

export interface LoadExpectations {
  /** timeouts.total_ms of the route: the bound on time to the answer (non-stream) or to the first event (stream). */
  readonly totalMs: number;
  /** Scheduling slack on a loaded 2-core machine, on top of total_ms. */
  readonly slackMs: number;
  /** Chunks in an ordinary / a long stream of the fake upstreams. */
  readonly streamChunks: number;
  readonly longStreamChunks: number;
  /** Upper bound on a stream's body time, for the hang watchdog. */
  readonly streamBodyBudgetMs: number;
  /** The content of a non-streamed answer of the fake upstreams. */
  readonly content: string;
}

export interface LoadOptions {
  readonly concurrency: number;
  readonly thinkMs: number;
  readonly maxRequests: number;
  readonly streamShare: number;
  readonly seed: number;
}

/** The `user` field that makes the fake upstreams answer with a long stream. */
export const LONG_STREAM_USER = 'chaos-long-stream';

const messages = [{ role: 'user' as const, content: 'chaos' }];

export class LoadGenerator {
  readonly records: RequestRecord[] = [];
  /** Set by the fault runner (enter()); each record keeps the phase it started in. */
  phase = 'calm';
  readonly transitions: { readonly phase: string; readonly at: number }[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly client: OpenAI;
  private readonly random: () => number;
  private workers: Promise<void>[] = [];
  private running = false;
  private sent = 0;
  private counter = 0;

  constructor(
    readonly balancer: Balancer,
    private readonly expect: LoadExpectations,
    private readonly options: LoadOptions,
  ) {
    this.random = mulberry32(options.seed);
    this.client = new OpenAI({
      baseURL: 'http://balancer.invalid/v1',
      apiKey: 'chaos',
      maxRetries: 0,
      timeout: expect.totalMs + expect.streamBodyBudgetMs + 10_000,
      fetch: (input, init) => this.fetch(input, init),
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * A fault also owns the requests in flight when it starts: they reach the
   * upstream (or are relayed) while it strikes.
   */
  enter(phase: string): void {
    if (phase !== 'calm') for (const pending of this.pending.values()) pending.phase = phase;
    this.phase = phase;
    this.transitions.push({ phase, at: Date.now() });
  }

  /** Requests of `phase` still running. */
  inFlightOf(phase: string): number {
    let count = 0;
    for (const pending of this.pending.values()) if (pending.phase === phase) count++;
    return count;
  }

  get total(): number {
    return this.sent;
  }

  /** Starts the workers; they run until stop() or maxRequests. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.workers = Array.from({ length: this.options.concurrency }, () => this.worker());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** One request outside the steady load (e.g. a long stream pinned to one replica). */
  async send(options: { stream: boolean; long?: boolean; pinned?: Replica; onFirstChunk?: () => void }): Promise<RequestRecord> {
    this.sent++;
    const record = await this.one(options.stream, options.long ?? false, options.pinned ?? null, options.onFirstChunk);
    this.records.push(record);
    return record;
  }

  private async worker(): Promise<void> {
    while (this.running && this.sent < this.options.maxRequests) {
      await this.send({ stream: this.random() < this.options.streamShare });
      await sleep(this.options.thinkMs);
    }
  }

  private async one(stream: boolean, long: boolean, pinned: Replica | null, onFirstChunk?: () => void): Promise<RequestRecord> {
    const id = `chaos-${++this.counter}`;
    const phase = this.phase;
    const startedAt = Date.now();
    const pending: Pending = { id, phase, pinned, replica: null, headersAt: null, tail: '', hung: false };
    this.pending.set(id, pending);
    const expectedChunks = long ? this.expect.longStreamChunks : this.expect.streamChunks;
    const watchdog = new AbortController();
    const budget = this.expect.totalMs + this.expect.slackMs + (stream ? this.expect.streamBodyBudgetMs * (long ? 4 : 1) : 0);
    const timer = setTimeout(() => {
      pending.hung = true;
      watchdog.abort();
    }, budget);
    const base = { id, stream, startedAt };
    let result: Omit<RequestRecord, keyof typeof base | 'phase' | 'replica' | 'headersAt' | 'endedAt'>;
    try {
      result = stream ? await this.streamed(id, long, expectedChunks, watchdog.signal, pending, onFirstChunk) : await this.plain(id, watchdog.signal, pending);
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
    const record: RequestRecord = { ...base, ...result, phase: pending.phase, replica: pending.replica, headersAt: pending.headersAt, endedAt: Date.now() };
    return this.withinTotalMs(record);
  }

  private async plain(id: string, signal: AbortSignal, pending: Pending): Promise<Omit<RequestRecord, 'id' | 'phase' | 'stream' | 'startedAt' | 'replica' | 'headersAt' | 'endedAt'>> {
    try {
      const { data, response } = await this.client.chat.completions
        .create({ model: 'chat', messages }, { headers: { 'x-request-id': id }, signal })
        .withResponse();
      const served = servedOf(response.headers);
      if (pending.hung) return failed('hang', served);
      if (data.model !== response.headers.get('x-served-by-model')) return failed(`wrong_model:${data.model}`, served);
      if (data.choices[0]?.message.content !== this.expect.content) return failed('wrong_content', served);
      return { outcome: 'ok', failure: null, errorCode: null, errorMessage: null, ...served };
    } catch (error) {
      return failed(pending.hung ? 'hang' : describeRequestError(error), servedOf(headersOf(error)));
    }
  }

  private async streamed(
    id: string,
    long: boolean,
    expectedChunks: number,
    signal: AbortSignal,
    pending: Pending,
    onFirstChunk?: () => void,
  ): Promise<Omit<RequestRecord, 'id' | 'phase' | 'stream' | 'startedAt' | 'replica' | 'headersAt' | 'endedAt'>> {
    let served: ServedBy = { servedBy: null, attempts: null };
    let chunks = 0;
    let firstModel: string | null = null;
    let servedModel: string | null = null;
    try {
      const { data: stream, response } = await this.client.chat.completions
        .create({ model: 'chat', messages, stream: true, ...(long ? { user: LONG_STREAM_USER } : {}) }, { headers: { 'x-request-id': id }, signal })
        .withResponse();
      served = servedOf(response.headers);
      servedModel = response.headers.get('x-served-by-model');
      for await (const chunk of stream) {
        if (chunks === 0) {
          firstModel = chunk.model;
          onFirstChunk?.();
        }
        chunks++;
      }
    } catch (error) {
      if (pending.hung) return failed('hang', served);
      if (chunks === 0 && !(error instanceof APIError && error.status === undefined)) return failed(describeRequestError(error), { ...served, ...servedOf(headersOf(error)) });
      const last = lastEvent(pending.tail);
      // An SSE error event: the SDK raises it as an APIError without an HTTP status.
      if (error instanceof APIError && error.status === undefined && last?.error) {
        return { outcome: 'error_event', failure: null, errorCode: String(error.code ?? ''), errorMessage: error.message, ...served };
      }
      return failed(`stream_broken:${describeRequestError(error)}`, served);
    }
    if (pending.hung) return failed('hang', served);
    if (!/data: ?\[DONE\]\s*$/.test(pending.tail)) return failed('truncated_without_error', served);
    if (chunks !== expectedChunks) return failed(`chunks:${chunks}/${expectedChunks}`, served);
    if (firstModel !== servedModel) return failed(`wrong_model:${firstModel}`, served);
    return { outcome: 'ok', failure: null, errorCode: null, errorMessage: null, ...served };
  }

  /** total_ms bounds the answer (non-stream) or the commit point (stream): the client's wait for a first byte. */
  private withinTotalMs(record: RequestRecord): RequestRecord {
    if (record.outcome === 'failure') return record;
    const waitedMs = (record.stream ? (record.headersAt ?? record.endedAt) : record.endedAt) - record.startedAt;
    if (waitedMs <= this.expect.totalMs + this.expect.slackMs) return record;
    return { ...record, outcome: 'failure', failure: `over_total_ms:${waitedMs}` };
  }

  /** The balancer as the SDK's fetch, with a tap on the response body. */
  private async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const id = new Headers(init?.headers).get('x-request-id');
    const pending = id ? this.pending.get(id) : undefined;
    const tried = new Set<string>();
    for (;;) {
      const replica = pending?.pinned ?? this.balancer.pick(tried);
      if (!replica) throw new Error(`no replica in rotation (tried ${[...tried].join(', ') || 'none'})`);
      tried.add(replica.name);
      const canReroute = !pending?.pinned;
      let response: Response;
      try {
        response = await fetch(`${replica.url}${url.pathname}${url.search}`, init);
      } catch (error) {
        const code = fetchFailureCode(error);
        if (canReroute && code === 'ECONNREFUSED') {
          this.balancer.rerouted.refused++;
          continue;
        }
        if (canReroute && this.balancer.isDraining(replica.name) && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET')) {
          this.balancer.rerouted.drainingSocketClosed++;
          continue;
        }
        throw error;
      }
      if (canReroute && response.status === 503 && response.headers.get('connection') === 'close') {
        const text = await response.clone().text();
        if (text.includes('"shutting_down"')) {
          this.balancer.rerouted.shuttingDown++;
          continue;
        }
      }
      if (!pending) return response;
      pending.replica = replica.name;
      pending.headersAt = Date.now();
      return tap(response, pending);
    }
  }
}

interface ServedBy {
  readonly servedBy: string | null;
  readonly attempts: string | null;
}

function servedOf(headers: Headers | null): ServedBy {
  return { servedBy: headers?.get('x-served-by-backend') ?? null, attempts: headers?.get('x-pinroute-attempts') ?? null };
}

function headersOf(error: unknown): Headers | null {
  return error instanceof APIError && error.headers ? error.headers : null;
}

function failed(failure: string, served: ServedBy) {
  return { outcome: 'failure' as const, failure, errorCode: null, errorMessage: null, ...served };
}

function describeRequestError(error: unknown): string {
  if (error instanceof APIConnectionTimeoutError) return 'client_timeout';
  if (error instanceof APIConnectionError) return `connection_error:${fetchFailureCode(error.cause)}`;
  if (error instanceof APIError) {
    const body = error.error as { code?: unknown } | undefined;
    return `http_${error.status ?? '?'}:${String(body?.code ?? error.code ?? '')}`;
  }
  if (error instanceof Error) return `${error.name}:${error.message.slice(0, 80)}`;
  return String(error);
}

/** The last SSE event in `tail`, parsed, if it is complete JSON. */
function lastEvent(tail: string): { error?: unknown } | null {
  const events = tail.split(/\n\n/).filter((event) => event.trim() !== '');
  const last = events.at(-1)?.trim() ?? '';
  if (!last.startsWith('data:')) return null;
  try {
    return JSON.parse(last.slice(5)) as { error?: unknown };
  } catch {
    return null;
  }
}

/** Passes the body through unchanged, keeping its tail for judgement. */
function tap(response: Response, pending: Pending): Response {
  if (!response.body) return response;
  const decoder = new TextDecoder();
  const tapStream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const text = decoder.decode(chunk, { stream: true });
      pending.tail = (pending.tail + text).slice(-4096);
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(tapStream), { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** A small seeded PRNG, so a run's request mix is reproducible from its seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
