/**
 * The headers that say who answered (SPEC §4): set on every /v1 response once a
 * target has been chosen, so output drift can be traced to a backend, model and
 * revision. Errors raised before any target is chosen carry only the request id
 * (and the route, when known).
 */
import type { CompiledTarget } from '../config/table.js';
import type { AttemptRecord } from '../errors.js';
import type { ServedRevision } from '../routing/execute.js';

export const HEADER = {
  backend: 'x-served-by-backend',
  model: 'x-served-by-model',
  revision: 'x-served-by-revision',
  revisionStatus: 'x-served-by-revision-status',
  route: 'x-pinroute-route',
  attempts: 'x-pinroute-attempts',
  requestId: 'x-request-id',
  forceTarget: 'x-pinroute-target',
} as const;

export function servedByHeaders(
  headers: Record<string, string | string[]>,
  target: CompiledTarget,
  revision: ServedRevision,
  attempts: readonly AttemptRecord[],
): void {
  headers[HEADER.backend] = target.backend.name;
  headers[HEADER.model] = target.model;
  headers[HEADER.revision] = revision.value;
  headers[HEADER.revisionStatus] = revision.status;
  headers[HEADER.attempts] = attemptsHeader(attempts);
}

/** "hosted=connect_error, mirror=200"; a same-target retry repeats its backend. */
export function attemptsHeader(attempts: readonly AttemptRecord[]): string {
  let value = '';
  for (const attempt of attempts) value += value === '' ? `${attempt.backend}=${attempt.outcome}` : `, ${attempt.backend}=${attempt.outcome}`;
  return value;
}
