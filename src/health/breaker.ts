/**
 * One circuit breaker per upstream deployment; the only opossum import.
 *
 * opossum wants to run the guarded work itself, but an attempt's outcome is known
 * at different moments (a stream succeeds at its end, not when the promise of the
 * request settles), so the guarded "action" is a promise we settle by hand through
 * the returned BreakerCall. opossum keeps what it is good at: the rolling error
 * window, the open → half-open timer and the single half-open trial.
 */
import CircuitBreaker from 'opossum';
import type { BreakerPolicy } from '../config/schema.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** How an attempt that passed through the breaker ended. */
export interface BreakerCall {
  success(): void;
  failure(): void;
  /** Says nothing about the upstream (the client went away): counted as a success. */
  neutral(): void;
}

export interface BreakerEvents {
  onOpen(): void;
  onHalfOpen(): void;
  onClose(): void;
}

const NEUTRAL = new Error('neutral outcome');
const swallow = (): void => {};

export class Breaker {
  private readonly circuit: CircuitBreaker<[Promise<void>], void>;

  constructor(
    readonly name: string,
    readonly policy: BreakerPolicy,
    events: BreakerEvents,
  ) {
    this.circuit = new CircuitBreaker((settled: Promise<void>) => settled, {
      name,
      timeout: false, // attempts carry their own connect / first-byte / idle deadlines
      resetTimeout: policy.reset_ms,
      errorThresholdPercentage: policy.error_threshold_pct,
      volumeThreshold: policy.min_requests,
      rollingCountTimeout: policy.window_ms,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      errorFilter: (error: unknown) => error === NEUTRAL,
    });
    this.circuit.on('open', () => events.onOpen());
    this.circuit.on('halfOpen', () => events.onHalfOpen());
    this.circuit.on('close', () => events.onClose());
  }

  get state(): BreakerState {
    if (this.circuit.opened) return 'open';
    if (this.circuit.halfOpen) return 'half_open';
    return 'closed';
  }

  /** True when a call would be admitted now (closed, or half-open with its trial still free). */
  get admits(): boolean {
    return this.circuit.closed || this.circuit.pendingClose;
  }

  /** Starts a guarded call, or returns null when the breaker rejects it. */
  begin(): BreakerCall | null {
    if (!this.admits) return null;
    let settle: (error?: Error) => void = swallow;
    const settled = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    this.circuit.fire(settled).catch(swallow);
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      settle(error);
    };
    return {
      success: () => finish(),
      failure: () => finish(new Error('upstream failure')),
      neutral: () => finish(NEUTRAL),
    };
  }

  /** Mirrors a trip decided by another replica. */
  forceOpen(): void {
    this.circuit.open();
  }

  /** Mirrors a successful trial on another replica. */
  forceClose(): void {
    this.circuit.close();
  }

  shutdown(): void {
    this.circuit.shutdown();
  }
}
