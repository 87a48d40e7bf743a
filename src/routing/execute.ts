/**
 * The attempt loop: targets in order, each skipped without a request when its
 * breaker is open, its health is down or its revision is known wrong; tried (and
 * retried per retry-policy.ts) otherwise; the first answer wins. Returns a value
 * for the HTTP layer to write; nothing here touches the client connection.
 */
import type { CompiledRoute, CompiledTarget } from '../config/table.js';
import type { AttemptRecord, GatewayError, UpstreamErrorBody } from '../errors.js';
import type { BreakerCall } from '../health/breaker.js';
import type { HealthRegistry } from '../health/registry.js';
import type { RevisionStatus } from '../state/store.js';
import type { UpstreamPools } from '../upstream/client.js';
import { Exchange, type AttemptResult } from '../upstream/exchange.js';
import { checksAnswers, passiveVerdict, type PassiveVerdict } from '../verify/passive.js';
import { classify, type Verdict } from './classify.js';
import { conclude } from './conclude.js';
import { decideRetry } from './retry-policy.js';

export interface ChainRequest {
  readonly route: CompiledRoute;
  /** Set by x-pinroute-target: this target only, no failover. */
  readonly forced: CompiledTarget | null;
  /** Path after the backend's base path, e.g. /chat/completions. */
  readonly endpoint: string;
  readonly stream: boolean;
  readonly startedAt: number;
  bodyFor(target: CompiledTarget): Buffer;
  headersFor(target: CompiledTarget, contentLength: number): Record<string, string>;
}

export interface ServedRevision {
  readonly value: string;
  readonly status: RevisionStatus;
}

type Ready = Extract<AttemptResult, { kind: 'ready' }>;

export type ChainResult =
  | {
      readonly kind: 'answer';
      readonly target: CompiledTarget;
      readonly attempts: readonly AttemptRecord[];
      readonly exchange: Exchange;
      readonly ready: Ready;
      /** Settled by the caller when the relay ends: a stream succeeds or fails at its end. */
      readonly breakerCall: BreakerCall;
      readonly revision: ServedRevision;
    }
  | {
      readonly kind: 'client_error';
      readonly target: CompiledTarget;
      readonly attempts: readonly AttemptRecord[];
      readonly status: number;
      readonly error: UpstreamErrorBody;
      readonly revision: ServedRevision;
    }
  | {
      readonly kind: 'failed';
      readonly error: GatewayError;
      readonly target: CompiledTarget | null;
      readonly attempts: readonly AttemptRecord[];
      readonly revision: ServedRevision | null;
    }
  | { readonly kind: 'aborted'; readonly target: CompiledTarget | null; readonly attempts: readonly AttemptRecord[] };

export class AttemptChain {
  private readonly attempts: AttemptRecord[] = [];
  private current: Exchange | null = null;
  private wake: (() => void) | null = null;
  private cancelled = false;

  constructor(
    private readonly request: ChainRequest,
    private readonly registry: HealthRegistry,
    private readonly pools: UpstreamPools,
  ) {}

  async run(): Promise<ChainResult> {
    const { route, forced } = this.request;
    const deadline = this.request.startedAt + route.totalMs;
    let last: CompiledTarget | null = null;
    for (const target of forced ? [forced] : route.targets) {
      if (this.cancelled) break;
      if (Date.now() >= deadline) break;
      last = target;
      const admission = this.admission(target);
      if (admission === 'skipped') continue;
      if (admission !== 'go') return admission;
      const result = await this.tryTarget(target, deadline);
      if (result) return result;
    }
    if (this.cancelled) return { kind: 'aborted', target: last, attempts: this.attempts };
    return conclude(route, last, this.attempts, deadline, this.registry, this.revisionFor.bind(this));
  }

  /** The client went away: stop whatever is in flight. */
  cancel(): void {
    this.cancelled = true;
    this.current?.cancel();
    this.wake?.();
  }

  /** Whether to try a target; or the final result when this target decides the request. */
  private admission(target: CompiledTarget): 'go' | 'skipped' | ChainResult {
    const skip = this.registry.skipReason(target);
    const forced = this.request.forced !== null;
    // A forced target is for reproducing what a backend serves, drift included.
    if (skip === null || (forced && skip === 'revision_mismatch')) {
      if (!forced && target.onRevisionMismatch === 'fail' && this.registry.knownMismatch(target)) {
        return this.revisionFailure(target, this.registry.revisionOf(target)?.observed ?? 'unknown');
      }
      return 'go';
    }
    this.registry.recordSkip(target);
    this.attempts.push({ backend: target.backend.name, outcome: skip, detail: skipDetail(skip) });
    if (!forced) return 'skipped';
    const error: GatewayError = {
      code: 'target_unavailable',
      backend: target.backend.name,
      outcome: skip,
      detail: skipDetail(skip),
      retryAfterMs: this.registry.reopensInMs(target),
    };
    return { kind: 'failed', error, target, attempts: this.attempts, revision: this.revisionFor(target) };
  }

  /** Attempts (and retries) one target; null means "move on to the next target". */
  private async tryTarget(target: CompiledTarget, deadline: number): Promise<ChainResult | null> {
    for (let retriesDone = 0; ; retriesDone++) {
      const call = this.registry.begin(target);
      if (!call) {
        this.attempts.push({ backend: target.backend.name, outcome: 'breaker_open', detail: skipDetail('breaker_open') });
        return null;
      }
      const { exchange, result } = await this.attempt(target, deadline);
      const verdict = classify(result);
      if (verdict.kind === 'answer' && result.kind === 'ready') return this.answer(target, exchange, result, call);
      if (verdict.kind === 'client_error') {
        call.success();
        this.record(target, String(verdict.status), true, null);
        return { kind: 'client_error', target, attempts: this.attempts, status: verdict.status, error: verdict.error, revision: this.revisionFor(target) };
      }
      if (verdict.kind !== 'failover') {
        call.neutral();
        return { kind: 'aborted', target, attempts: this.attempts };
      }
      if (verdict.breakerFailure) call.failure();
      else call.success();
      this.record(target, verdict.outcome, false, verdict.detail);
      const decision = decideRetry({ ...verdict, retriesDone, policy: target.retry, remainingMs: deadline - Date.now() });
      if (decision.retry) {
        await this.sleep(decision.delayMs);
        if (this.cancelled) return { kind: 'aborted', target, attempts: this.attempts };
        continue;
      }
      if (decision.coolDownMs !== null) this.registry.coolDown(target, decision.coolDownMs);
      return this.request.forced ? this.forcedFailure(target, verdict) : null;
    }
  }

  private async attempt(target: CompiledTarget, deadline: number): Promise<{ exchange: Exchange; result: AttemptResult }> {
    const body = this.request.bodyFor(target);
    const exchange = new Exchange(this.pools, {
      target,
      path: `${target.backend.basePath}${this.request.endpoint}`,
      headers: this.request.headersFor(target, body.length),
      body,
      stream: this.request.stream,
      readsModel: checksAnswers(target),
      deadline: Math.min(deadline, Date.now() + target.timeouts.total_ms),
    });
    this.current = exchange;
    const result = await exchange.start();
    this.current = null;
    return { exchange, result };
  }

  private answer(target: CompiledTarget, exchange: Exchange, ready: Ready, call: BreakerCall): ChainResult | null {
    const passive = passiveVerdict(target, ready.upstreamModel);
    if (passive) {
      this.registry.observeRevision(target.stateKey, { ...passive, checkedAt: Date.now(), source: 'response' });
    }
    if (passive?.status === 'mismatch' && !this.request.forced && target.onRevisionMismatch !== 'serve') {
      exchange.cancel();
      call.neutral();
      this.record(target, 'revision_mismatch', false, passive.detail);
      if (target.onRevisionMismatch === 'fail') return this.revisionFailure(target, passive.observed);
      return null;
    }
    this.record(target, String(ready.status), true, null);
    return {
      kind: 'answer',
      target,
      attempts: this.attempts,
      exchange,
      ready,
      breakerCall: call,
      revision: this.revisionFor(target, passive),
    };
  }

  private forcedFailure(target: CompiledTarget, verdict: Extract<Verdict, { kind: 'failover' }>): ChainResult {
    const error: GatewayError = verdict.upstream
      ? { code: 'upstream_http_error', status: verdict.upstream.status, body: verdict.upstream.error, retryAfterMs: verdict.retryAfterMs }
      : { code: 'target_unavailable', backend: target.backend.name, outcome: verdict.outcome, detail: verdict.detail, retryAfterMs: null };
    return { kind: 'failed', error, target, attempts: this.attempts, revision: this.revisionFor(target) };
  }

  private revisionFailure(target: CompiledTarget, observed: string): ChainResult {
    const error: GatewayError = { code: 'revision_mismatch', backend: target.backend.name, pinned: target.revision, observed };
    return { kind: 'failed', error, target, attempts: this.attempts, revision: { value: observed, status: 'mismatch' } };
  }

  private revisionFor(target: CompiledTarget, passive: PassiveVerdict | null = null): ServedRevision {
    if (!target.pinned) return { value: target.revision, status: 'unverified' };
    const view = passive ?? this.registry.revisionOf(target);
    const status = view?.status ?? 'unverified';
    return { value: status === 'mismatch' ? (view?.observed ?? target.revision) : target.revision, status };
  }

  private record(target: CompiledTarget, outcome: string, ok: boolean, detail: string | null): void {
    this.attempts.push(detail === null ? { backend: target.backend.name, outcome } : { backend: target.backend.name, outcome, detail });
    this.registry.recordResult(target, outcome, ok, detail);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function skipDetail(skip: string): string {
  switch (skip) {
    case 'breaker_open':
      return 'circuit breaker open';
    case 'down':
      return 'health probe says down';
    default:
      return 'serves a different revision than pinned';
  }
}
