/**
 * One request to one target, from dispatch to the last relayed byte.
 *
 * Phase 1 (`ready`): nothing is sent to the client until the upstream has
 * answered 2xx and delivered enough to judge the answer: the first SSE data
 * event of a stream, or the whole (or first MiB of a) JSON body. A slow first
 * byte, a reset, or an in-band error there is still a failover, not a client error.
 * Phase 2 (`relay`): bytes are passed through unparsed; a stall longer than
 * idle_ms or a broken upstream ends the relay with a failure the caller reports.
 *
 * One watchdog timer covers both phases: first-byte (bounded by the chain
 * deadline) until ready, then idle, paused while the client applies backpressure.
 *
 * The exchange is undici's response handler itself (the dispatch API): no
 * promise, Readable or AbortSignal per request, and backpressure is the
 * controller's pause()/resume().
 */
import type { Writable } from 'node:stream';
import type { CompiledTarget } from '../config/table.js';
import { classifyConnectFailure, type ResponseHandler, type UpstreamController, type UpstreamHeaders, type UpstreamPools } from './client.js';
import { retryAfterMs } from './error-body.js';
import { responseModel } from './response-model.js';
import { endsWithDone, readFirstEvent } from './sse.js';

export interface AttemptSpec {
  readonly target: CompiledTarget;
  /** Upstream path, e.g. /v1/chat/completions. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly stream: boolean;
  /** Read the `model` of a JSON answer (only the passive revision check needs it). */
  readonly readsModel: boolean;
  /** Epoch ms by which the upstream must be ready (the chain's total_ms). */
  readonly deadline: number;
}

export type AttemptResult =
  | {
      readonly kind: 'ready';
      readonly status: number;
      readonly headers: UpstreamHeaders;
      /** Everything received so far; for a complete body, the whole body. */
      readonly head: Buffer;
      readonly complete: boolean;
      readonly sse: boolean;
      /** The `model` the upstream says answered (first event or JSON body), if any. */
      readonly upstreamModel: string | null;
      /** Milliseconds from dispatch to ready. */
      readonly ttfbMs: number;
    }
  | { readonly kind: 'http_error'; readonly status: number; readonly headers: UpstreamHeaders; readonly bodyText: string; readonly retryAfterMs: number | null }
  | { readonly kind: 'connect_error'; readonly detail: string }
  | { readonly kind: 'timeout'; readonly detail: string }
  | { readonly kind: 'stream_error'; readonly detail: string }
  | { readonly kind: 'aborted' };

export type RelayOutcome =
  | { readonly kind: 'complete' }
  /** The upstream failed or stalled after the commit point. */
  | { readonly kind: 'broken'; readonly label: 'stream_error' | 'timeout'; readonly detail: string }
  | { readonly kind: 'client_gone' };

/** A JSON body above this is relayed rather than buffered (and so cannot fail over once started). */
const JSON_BUFFER_LIMIT_BYTES = 1024 * 1024;
/** No first data event within this many bytes is not a stream we understand. */
const FIRST_EVENT_LIMIT_BYTES = 256 * 1024;
const ERROR_BODY_LIMIT_BYTES = 64 * 1024;

type Phase = 'dispatching' | 'heading' | 'ready' | 'relaying' | 'finished';

/** The reason we give undici when we cancel; recognised by identity, never reported. */
const CANCELLED = new Error('cancelled by pinroute');

export class Exchange implements ResponseHandler {
  private phase: Phase = 'dispatching';
  private controller: UpstreamController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private status = 0;
  private headers: UpstreamHeaders = {};
  private chunks: Buffer[] = [];
  private received = 0;
  private settleAttempt: (result: AttemptResult) => void = () => {};
  private settleRelay: (outcome: RelayOutcome) => void = () => {};
  private sink: Writable | null = null;
  private dispatchedAt = 0;
  /** A streamed answer (text/event-stream to a stream request), decided when headers arrive. */
  private sse = false;
  /** Last bytes relayed, to tell a stream that ended with [DONE] from a truncated one. */
  private tail = '';
  /**
   * What happened to the upstream body between the commit point and relay():
   * a short stream can arrive whole, end included, in the chunk that held its
   * first event, and then no further 'end' would come for the relay to see.
   */
  private endedBeforeRelay: { readonly error: string | null } | null = null;

  constructor(
    private readonly pools: UpstreamPools,
    private readonly spec: AttemptSpec,
  ) {}

  /** Sends the request and resolves once the answer can be judged (never rejects). */
  start(): Promise<AttemptResult> {
    const { target } = this.spec;
    const firstByteMs = Math.max(1, Math.min(target.timeouts.first_byte_ms, this.spec.deadline - Date.now()));
    this.timer = setTimeout(() => this.expire(`no first byte within ${firstByteMs} ms`), firstByteMs);
    const result = new Promise<AttemptResult>((resolve) => (this.settleAttempt = resolve));
    this.dispatchedAt = performance.now();
    this.pools.dispatch(target.backend, { method: 'POST', path: this.spec.path, headers: this.spec.headers, body: this.spec.body }, this);
    return result;
  }

  /** Passes the rest of the body to `sink` (the client); resolves when it ends. */
  relay(sink: Writable): Promise<RelayOutcome> {
    if (this.phase !== 'ready') return Promise.resolve({ kind: 'complete' });
    this.phase = 'relaying';
    this.sink = sink;
    const idleMs = this.spec.target.timeouts.idle_ms;
    this.timer = setTimeout(() => this.expire(`no data for ${idleMs} ms`), idleMs);
    sink.on('drain', this.onDrain);
    sink.on('close', this.onSinkClose);
    return new Promise<RelayOutcome>((resolve) => {
      this.settleRelay = resolve;
      // Chunks that were already on their way when the body was paused at the commit point.
      const early = this.chunks;
      this.chunks = [];
      for (const chunk of early) this.forward(chunk);
      const ended = this.endedBeforeRelay;
      if (ended === null) this.controller?.resume();
      else if (ended.error === null) this.endRelay();
      else this.breakRelay(ended.error);
    });
  }

  /** True while bytes are still being passed on (false once the relay has ended, however). */
  get relaying(): boolean {
    return this.phase === 'relaying';
  }

  /** The client went away, or the answer was not used: stop the upstream request. */
  cancel(): void {
    if (this.phase === 'finished') return;
    const relaying = this.phase === 'relaying';
    this.finish();
    this.controller?.abort(CANCELLED);
    if (relaying) this.settleRelay({ kind: 'client_gone' });
    else this.settleAttempt({ kind: 'aborted' });
  }

  // undici's handler interface -------------------------------------------

  onRequestStart(controller: UpstreamController): void {
    this.controller = controller;
    // Cancelled (or timed out) while the request still waited for a connection.
    if (this.phase === 'finished') controller.abort(CANCELLED);
  }

  onResponseStart(controller: UpstreamController, statusCode: number, headers: UpstreamHeaders): void {
    if (this.phase === 'finished') return controller.abort(CANCELLED);
    this.status = statusCode;
    this.headers = headers;
    this.phase = 'heading';
    const contentType = headers['content-type'];
    this.sse = this.spec.stream && typeof contentType === 'string' && contentType.includes('text/event-stream');
  }

  onResponseData(_controller: UpstreamController, chunk: Buffer): void {
    if (this.phase === 'relaying') return this.forward(chunk);
    if (this.phase === 'ready') {
      this.chunks.push(chunk);
      return;
    }
    if (this.phase !== 'heading') return;
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.status < 200 || this.status >= 300) {
      if (this.received > ERROR_BODY_LIMIT_BYTES) this.readyWithError();
      return;
    }
    if (this.sse) return this.checkFirstEvent();
    if (this.received > JSON_BUFFER_LIMIT_BYTES) this.ready(false);
  }

  onResponseEnd(): void {
    if (this.phase === 'relaying') return this.endRelay();
    if (this.phase === 'ready') {
      this.endedBeforeRelay = { error: null };
      return;
    }
    if (this.phase !== 'heading') return;
    if (this.status < 200 || this.status >= 300) return this.readyWithError();
    if (this.sse) {
      const first = readFirstEvent(Buffer.concat(this.chunks).toString('utf8'));
      if (first.kind === 'incomplete') return this.failHeading('stream ended before its first event');
      return this.checkFirstEvent();
    }
    this.ready(true);
  }

  onResponseError(_controller: UpstreamController, error: Error): void {
    if (this.phase === 'finished' || error === CANCELLED) return;
    if (this.phase === 'dispatching') return this.dispatchFailed(error);
    if (this.phase === 'relaying') return this.breakRelay(describeError(error));
    if (this.phase === 'ready') {
      this.endedBeforeRelay = { error: describeError(error) };
      return;
    }
    this.failHeading(`upstream failed before its first event: ${describeError(error)}`);
  }

  // ------------------------------------------------------------------------

  private dispatchFailed(error: Error): void {
    const failure = classifyConnectFailure(error);
    this.finish();
    if (failure === 'aborted') return this.settleAttempt({ kind: 'aborted' });
    if (failure === 'connect_timeout') {
      return this.settleAttempt({ kind: 'timeout', detail: `connect timed out after ${this.spec.target.backend.connectTimeoutMs} ms` });
    }
    this.settleAttempt({ kind: 'connect_error', detail: describeError(error) });
  }

  private checkFirstEvent(): void {
    const text = Buffer.concat(this.chunks).toString('utf8');
    const first = readFirstEvent(text);
    if (first.kind === 'incomplete') {
      if (this.received > FIRST_EVENT_LIMIT_BYTES) this.failHeading(`no event within the first ${FIRST_EVENT_LIMIT_BYTES} bytes`);
      return;
    }
    if (first.kind === 'error') return this.failHeading(first.message);
    this.tail = text.slice(-64);
    const model = first.kind === 'data' ? first.model : null;
    this.settleReady(false, () => model);
  }

  private ready(complete: boolean): void {
    this.settleReady(complete, (head) => (this.spec.readsModel ? responseModel(head.toString('utf8', 0, Math.min(head.length, 64 * 1024))) : null));
  }

  /** `modelOf` reads the upstream's `model` from the head, once it is assembled. */
  private settleReady(complete: boolean, modelOf: (head: Buffer) => string | null): void {
    this.clearTimer();
    const head = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [];
    const upstreamModel = modelOf(head);
    this.phase = complete ? 'finished' : 'ready';
    // Nothing more is read until the caller has committed and calls relay().
    if (!complete) this.controller?.pause();
    this.settleAttempt({
      kind: 'ready',
      status: this.status,
      headers: this.headers,
      head,
      complete,
      sse: this.sse,
      upstreamModel,
      ttfbMs: performance.now() - this.dispatchedAt,
    });
  }

  private readyWithError(): void {
    const bodyText = Buffer.concat(this.chunks).toString('utf8', 0, Math.min(this.received, ERROR_BODY_LIMIT_BYTES));
    this.finish();
    this.controller?.abort(CANCELLED);
    this.settleAttempt({ kind: 'http_error', status: this.status, headers: this.headers, bodyText, retryAfterMs: retryAfterMs(this.headers) });
  }

  private failHeading(detail: string): void {
    this.finish();
    this.controller?.abort(CANCELLED);
    this.settleAttempt({ kind: 'stream_error', detail });
  }

  private forward(chunk: Buffer): void {
    this.timer?.refresh();
    if (this.sse) this.tail = (this.tail + chunk.toString('latin1', Math.max(0, chunk.length - 64))).slice(-64);
    if (!(this.sink as Writable).write(chunk)) {
      // The client is slow, not the upstream: stop reading and stop the idle clock.
      this.controller?.pause();
      this.clearTimer();
    }
  }

  private readonly onDrain = (): void => {
    if (this.phase !== 'relaying') return;
    const idleMs = this.spec.target.timeouts.idle_ms;
    if (!this.timer) this.timer = setTimeout(() => this.expire(`no data for ${idleMs} ms`), idleMs);
    this.controller?.resume();
  };

  /** The client connection closed while we were still relaying. */
  private readonly onSinkClose = (): void => {
    if (this.phase === 'relaying') this.cancel();
  };

  private breakRelay(detail: string): void {
    this.finish();
    this.settleRelay({ kind: 'broken', label: 'stream_error', detail: `upstream failed mid-answer: ${detail}` });
  }

  private endRelay(): void {
    this.finish();
    if (this.sse && !endsWithDone(this.tail)) {
      return this.settleRelay({ kind: 'broken', label: 'stream_error', detail: 'upstream ended the stream without data: [DONE]' });
    }
    this.settleRelay({ kind: 'complete' });
  }

  private expire(detail: string): void {
    const phase = this.phase;
    if (phase === 'finished') return;
    this.finish();
    this.controller?.abort(CANCELLED);
    if (phase === 'relaying') this.settleRelay({ kind: 'broken', label: 'timeout', detail: `upstream stalled: ${detail}` });
    else this.settleAttempt({ kind: 'timeout', detail });
  }

  private finish(): void {
    this.phase = 'finished';
    this.clearTimer();
    this.sink?.off('drain', this.onDrain);
    this.sink?.off('close', this.onSinkClose);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? `${error.code}: ` : '';
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${code}${error.message}${cause}`;
}
