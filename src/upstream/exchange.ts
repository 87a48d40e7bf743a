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
 */
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import type { CompiledTarget } from '../config/table.js';
import { classifyConnectFailure, type UpstreamPools, type UpstreamResponse } from './client.js';
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
      readonly headers: UpstreamResponse['headers'];
      /** Everything received so far; for a complete body, the whole body. */
      readonly head: Buffer;
      readonly complete: boolean;
      readonly sse: boolean;
      /** The `model` the upstream says answered (first event or JSON body), if any. */
      readonly upstreamModel: string | null;
      /** Milliseconds from dispatch to ready. */
      readonly ttfbMs: number;
    }
  | { readonly kind: 'http_error'; readonly status: number; readonly headers: UpstreamResponse['headers']; readonly bodyText: string; readonly retryAfterMs: number | null }
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

export class Exchange {
  /** undici cancels the request when this emits 'abort'. */
  private readonly abortSignal = new EventEmitter();
  private phase: Phase = 'dispatching';
  private timer: NodeJS.Timeout | null = null;
  private response: UpstreamResponse | null = null;
  private readonly chunks: Buffer[] = [];
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
    this.pools
      .request(target.backend, {
        method: 'POST',
        path: this.spec.path,
        headers: this.spec.headers,
        body: this.spec.body,
        signal: this.abortSignal,
      })
      .then(
        (response) => this.onResponse(response),
        (error: unknown) => this.onDispatchError(error),
      );
    return result;
  }

  /** Passes the rest of the body to `sink` (the client); resolves when it ends. */
  relay(sink: Writable): Promise<RelayOutcome> {
    const body = this.response?.body;
    if (this.phase !== 'ready' || !body) return Promise.resolve({ kind: 'complete' });
    this.phase = 'relaying';
    this.sink = sink;
    const idleMs = this.spec.target.timeouts.idle_ms;
    this.clearTimer();
    this.timer = setTimeout(() => this.expire(`no data for ${idleMs} ms`), idleMs);
    sink.on('drain', this.onDrain);
    sink.on('close', this.onSinkClose);
    return new Promise<RelayOutcome>((resolve) => {
      this.settleRelay = resolve;
      const ended = this.endedBeforeRelay;
      if (ended === null) body.resume();
      else if (ended.error === null) this.endRelay();
      else this.breakRelay(ended.error);
    });
  }

  /** The client went away, or the answer was not used: stop the upstream request. */
  cancel(): void {
    if (this.phase === 'finished') return;
    const relaying = this.phase === 'relaying';
    this.finish();
    this.response?.body.destroy();
    this.abortSignal.emit('abort');
    if (relaying) this.settleRelay({ kind: 'client_gone' });
    else this.settleAttempt({ kind: 'aborted' });
  }

  private onResponse(response: UpstreamResponse): void {
    if (this.phase === 'finished') {
      response.body.destroy();
      return;
    }
    this.response = response;
    this.phase = 'heading';
    const contentType = response.headers['content-type'];
    this.sse = this.spec.stream && typeof contentType === 'string' && contentType.includes('text/event-stream');
    const { body } = response;
    body.on('data', (chunk: Buffer) => this.onData(chunk));
    body.on('end', () => this.onEnd());
    body.on('error', (error: Error) => this.onBodyError(error));
  }

  private onDispatchError(error: unknown): void {
    if (this.phase === 'finished') return;
    const failure = classifyConnectFailure(error);
    this.finish();
    if (failure === 'aborted') return this.settleAttempt({ kind: 'aborted' });
    const detail = describeError(error);
    if (failure === 'connect_timeout') {
      return this.settleAttempt({ kind: 'timeout', detail: `connect timed out after ${this.spec.target.backend.connectTimeoutMs} ms` });
    }
    this.settleAttempt({ kind: 'connect_error', detail });
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'relaying') return this.forward(chunk);
    if (this.phase !== 'heading') return;
    this.chunks.push(chunk);
    this.received += chunk.length;
    const response = this.response as UpstreamResponse;
    if (response.statusCode < 200 || response.statusCode >= 300) {
      if (this.received > ERROR_BODY_LIMIT_BYTES) this.readyWithError();
      return;
    }
    if (this.sse) return this.checkFirstEvent();
    if (this.received > JSON_BUFFER_LIMIT_BYTES) this.ready(false);
  }

  private onEnd(): void {
    if (this.phase === 'relaying') return this.endRelay();
    if (this.phase === 'ready') {
      this.endedBeforeRelay = { error: null };
      return;
    }
    if (this.phase !== 'heading') return;
    const response = this.response as UpstreamResponse;
    if (response.statusCode < 200 || response.statusCode >= 300) return this.readyWithError();
    if (this.sse) {
      const first = readFirstEvent(Buffer.concat(this.chunks).toString('utf8'));
      if (first.kind === 'incomplete') return this.failHeading('stream ended before its first event');
      return this.checkFirstEvent();
    }
    this.ready(true);
  }

  private onBodyError(error: Error): void {
    if (this.phase === 'relaying') return this.breakRelay(describeError(error));
    if (this.phase === 'ready') {
      this.endedBeforeRelay = { error: describeError(error) };
      return;
    }
    if (this.phase !== 'heading') return;
    if (classifyConnectFailure(error) === 'aborted') {
      this.finish();
      return this.settleAttempt({ kind: 'aborted' });
    }
    this.failHeading(`upstream failed before its first event: ${describeError(error)}`);
  }

  private checkFirstEvent(): void {
    const text = Buffer.concat(this.chunks).toString('utf8');
    const first = readFirstEvent(text);
    if (first.kind === 'incomplete') {
      if (this.received > FIRST_EVENT_LIMIT_BYTES) this.failHeading(`no event within the first ${FIRST_EVENT_LIMIT_BYTES} bytes`);
      return;
    }
    if (first.kind === 'error') return this.failHeading(first.message);
    const model = first.kind === 'data' ? first.model : null;
    this.tail = text.slice(-64);
    this.settleReady(false, model);
  }

  private ready(complete: boolean): void {
    const head = Buffer.concat(this.chunks);
    const model = this.spec.readsModel ? responseModel(head.toString('utf8', 0, Math.min(head.length, 64 * 1024))) : null;
    this.settleReady(complete, model);
  }

  private settleReady(complete: boolean, upstreamModel: string | null): void {
    const response = this.response as UpstreamResponse;
    this.clearTimer();
    this.phase = complete ? 'finished' : 'ready';
    if (!complete) response.body.pause();
    this.settleAttempt({
      kind: 'ready',
      status: response.statusCode,
      headers: response.headers,
      head: this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks),
      complete,
      sse: this.sse,
      upstreamModel,
      ttfbMs: performance.now() - this.dispatchedAt,
    });
    this.chunks.length = 0;
  }

  private readyWithError(): void {
    const response = this.response as UpstreamResponse;
    const bodyText = Buffer.concat(this.chunks).toString('utf8', 0, Math.min(this.received, ERROR_BODY_LIMIT_BYTES));
    this.finish();
    response.body.destroy();
    this.settleAttempt({
      kind: 'http_error',
      status: response.statusCode,
      headers: response.headers,
      bodyText,
      retryAfterMs: retryAfterMs(response.headers),
    });
  }

  private failHeading(detail: string): void {
    this.finish();
    this.response?.body.destroy();
    this.settleAttempt({ kind: 'stream_error', detail });
  }

  private forward(chunk: Buffer): void {
    this.timer?.refresh();
    if (this.sse) this.tail = (this.tail + chunk.toString('latin1', Math.max(0, chunk.length - 64))).slice(-64);
    const sink = this.sink as Writable;
    if (!sink.write(chunk)) {
      // The client is slow, not the upstream: stop reading and stop the idle clock.
      this.response?.body.pause();
      this.clearTimer();
    }
  }

  private readonly onDrain = (): void => {
    if (this.phase !== 'relaying') return;
    const idleMs = this.spec.target.timeouts.idle_ms;
    if (!this.timer) this.timer = setTimeout(() => this.expire(`no data for ${idleMs} ms`), idleMs);
    this.response?.body.resume();
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
    this.response?.body.destroy();
    this.abortSignal.emit('abort');
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
