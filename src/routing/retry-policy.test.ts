import { describe, expect, it } from 'vitest';
import { decideRetry, type RetryInput } from './retry-policy.js';

const policy = { attempts: 2, backoff_ms: 100, max_retry_after_ms: 1000 };
const base: RetryInput = { retryable: true, rateLimited: false, retryAfterMs: null, retriesDone: 0, policy, remainingMs: 60_000 };

describe('decideRetry', () => {
  it('backs off exponentially from backoff_ms', () => {
    expect(decideRetry(base)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry({ ...base, retriesDone: 1 })).toEqual({ retry: true, delayMs: 200 });
  });

  it('stops when retries are used up', () => {
    expect(decideRetry({ ...base, retriesDone: 2 })).toEqual({ retry: false, coolDownMs: null });
  });

  it('never retries what is not retryable (timeouts, misconfigured backends)', () => {
    expect(decideRetry({ ...base, retryable: false })).toEqual({ retry: false, coolDownMs: null });
  });

  it('waits for a retry-after within max_retry_after_ms', () => {
    expect(decideRetry({ ...base, rateLimited: true, retryAfterMs: 700 })).toEqual({ retry: true, delayMs: 700 });
  });

  it('moves on and cools the target when a 429 asks for longer than max_retry_after_ms', () => {
    expect(decideRetry({ ...base, rateLimited: true, retryAfterMs: 5000 })).toEqual({ retry: false, coolDownMs: 5000 });
  });

  it('cools a rate-limited target when no retries are left', () => {
    expect(decideRetry({ ...base, rateLimited: true, retryAfterMs: 500, retriesDone: 2 })).toEqual({ retry: false, coolDownMs: 500 });
  });

  it('retries a 429 without retry-after on the normal backoff, with no cooldown', () => {
    expect(decideRetry({ ...base, rateLimited: true })).toEqual({ retry: true, delayMs: 100 });
  });

  it('never waits past the chain deadline', () => {
    expect(decideRetry({ ...base, remainingMs: 50 })).toEqual({ retry: false, coolDownMs: null });
  });
});
