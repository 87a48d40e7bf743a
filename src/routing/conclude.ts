/**
 * The answer when no target served: 504 when the chain ran out of time, 429 when
 * every target was rate-limited (with the earliest retry-after), otherwise 503
 * naming each target and why, with `retry-after-ms` when a breaker will reopen.
 */
import type { CompiledRoute, CompiledTarget } from '../config/table.js';
import type { AttemptRecord, GatewayError } from '../errors.js';
import type { HealthRegistry } from '../health/registry.js';
import type { ChainResult, ServedRevision } from './execute.js';

const DEFAULT_RATE_LIMIT_RETRY_MS = 1000;

export function conclude(
  route: CompiledRoute,
  last: CompiledTarget | null,
  attempts: readonly AttemptRecord[],
  deadline: number,
  registry: HealthRegistry,
  revisionFor: (target: CompiledTarget) => ServedRevision,
): ChainResult {
  const revision = last ? revisionFor(last) : null;
  const fail = (error: GatewayError): ChainResult => ({ kind: 'failed', error, target: last, attempts, revision });
  if (Date.now() >= deadline) {
    return fail({ code: 'gateway_timeout', route: route.name, totalMs: route.totalMs, attempts });
  }
  const now = Date.now();
  const lastOutcome = (target: CompiledTarget) => attempts.findLast((attempt) => attempt.backend === target.backend.name)?.outcome;
  const reopenDelays = route.targets
    .filter((target) => ['breaker_open', '429'].includes(lastOutcome(target) ?? ''))
    .map((target) => registry.reopensInMs(target, now))
    .filter((delay): delay is number => delay !== null);
  const earliestReopen = reopenDelays.length > 0 ? Math.min(...reopenDelays) : null;

  const rateLimited = route.targets.every((target) => {
    const outcome = lastOutcome(target);
    return outcome === '429' || (outcome === 'breaker_open' && registry.stateOf(target.stateKey)?.openReason === 'rate_limited');
  });
  if (rateLimited && attempts.length > 0) {
    return fail({ code: 'rate_limited', route: route.name, attempts, retryAfterMs: earliestReopen ?? DEFAULT_RATE_LIMIT_RETRY_MS });
  }
  return fail({ code: 'all_targets_failed', route: route.name, attempts, retryAfterMs: earliestReopen });
}
