/**
 * Whether to try the same target again, and after how long (pure; SPEC §4).
 * Retries honour the upstream's retry-after when it is short enough, back off
 * exponentially from backoff_ms otherwise, and never outlive the chain deadline.
 * A 429 that cannot be waited out here moves on and cools the target instead.
 */
import type { RetryPolicy } from '../config/schema.js';

export interface RetryInput {
  readonly retryable: boolean;
  readonly rateLimited: boolean;
  readonly retryAfterMs: number | null;
  /** Retries of this target already made (0 after the first attempt). */
  readonly retriesDone: number;
  readonly policy: RetryPolicy;
  /** Milliseconds left before the chain deadline. */
  readonly remainingMs: number;
}

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  /** Move on; `coolDownMs` keeps every replica off the target for that long. */
  | { readonly retry: false; readonly coolDownMs: number | null };

export function decideRetry(input: RetryInput): RetryDecision {
  const { policy, retryAfterMs } = input;
  const honoured = retryAfterMs !== null && retryAfterMs <= policy.max_retry_after_ms ? retryAfterMs : null;
  const coolDownMs = input.rateLimited && retryAfterMs !== null && retryAfterMs > 0 ? retryAfterMs : null;
  if (!input.retryable || input.retriesDone >= policy.attempts) return { retry: false, coolDownMs };
  if (retryAfterMs !== null && honoured === null) return { retry: false, coolDownMs };
  const delayMs = honoured ?? policy.backoff_ms * 2 ** input.retriesDone;
  if (delayMs >= input.remainingMs) return { retry: false, coolDownMs };
  return { retry: true, delayMs };
}
