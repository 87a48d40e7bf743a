/**
 * The live state of one upstream deployment (backend + model) on this replica:
 * its breaker, the fleet-wide trip deadline, the half-open trial lease, the
 * revision it was last seen serving, and counters for /admin/status.
 */
import type { BreakerPolicy } from '../config/schema.js';
import type { RevisionSource, RevisionStatus } from '../state/store.js';
import { Breaker, type BreakerEvents } from './breaker.js';

export interface RevisionView {
  readonly status: RevisionStatus;
  readonly observed: string | null;
  readonly checkedAt: number | null;
  readonly detail: string | null;
  readonly source: RevisionSource | null;
}

export interface LastError {
  readonly outcome: string;
  readonly message: string;
  readonly at: number;
}

export type TrialLease = 'none' | 'acquiring' | 'held';

export class TargetState {
  readonly breaker: Breaker;
  /** Epoch ms before which no replica may use this target (breaker trip or 429 cooldown). */
  openUntil = 0;
  openReason: 'breaker' | 'rate_limited' | null = null;
  trialLease: TrialLease = 'none';
  trialRetryTimer: NodeJS.Timeout | null = null;
  revision: RevisionView = { status: 'unverified', observed: null, checkedAt: null, detail: null, source: null };
  lastError: LastError | null = null;
  readonly counters = { attempts: 0, successes: 0, failures: 0, skipped: 0 };

  constructor(
    readonly key: string,
    readonly backend: string,
    readonly model: string,
    readonly pinnedRevision: string,
    /** The backend's fingerprint (url, key, limits): another URL is another deployment. */
    readonly backendFingerprint: string,
    breakerPolicy: BreakerPolicy,
    events: BreakerEvents,
  ) {
    this.breaker = new Breaker(key, breakerPolicy, events);
  }

  /** Same deployment, pin and breaker policy: a reload may keep this state. */
  isCompatible(pinnedRevision: string, backendFingerprint: string, breakerPolicy: BreakerPolicy): boolean {
    return (
      this.pinnedRevision === pinnedRevision &&
      this.backendFingerprint === backendFingerprint &&
      JSON.stringify(this.breaker.policy) === JSON.stringify(breakerPolicy)
    );
  }

  dispose(): void {
    if (this.trialRetryTimer) clearTimeout(this.trialRetryTimer);
    this.trialRetryTimer = null;
    this.breaker.shutdown();
  }
}
