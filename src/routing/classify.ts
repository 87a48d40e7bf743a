/**
 * What one attempt's result means for the chain: a chain of guard clauses on
 * stable result kinds and status codes (SPEC §4 "Failover"), never on messages,
 * except the context-length case, which most backends only say in words.
 */
import type { UpstreamErrorBody } from '../errors.js';
import { isContextLengthError, normalizeErrorBody } from '../upstream/error-body.js';
import type { AttemptResult } from '../upstream/exchange.js';

export type Verdict =
  | { readonly kind: 'answer' }
  /** The client's own mistake: returned as is, with served-by headers. */
  | { readonly kind: 'client_error'; readonly status: number; readonly error: UpstreamErrorBody }
  | {
      readonly kind: 'failover';
      /** For x-pinroute-attempts: an HTTP status or a label. */
      readonly outcome: string;
      readonly detail: string;
      /** May the same target be tried again (retry.attempts)? Timeouts never are. */
      readonly retryable: boolean;
      /** Does this count against the target's breaker? */
      readonly breakerFailure: boolean;
      readonly rateLimited: boolean;
      readonly retryAfterMs: number | null;
      /** The upstream's own error, for a forced target that must return it. */
      readonly upstream: { readonly status: number; readonly error: UpstreamErrorBody } | null;
    }
  | { readonly kind: 'aborted' };

/** Statuses that say "try elsewhere": RFC 9110 408/409/429, any 5xx. */
const RETRYABLE_STATUS = new Set([408, 409, 429]);
/** The backend rejected *us* (key, permissions, model name): a config problem, not the client's. */
const MISCONFIGURED_BACKEND_STATUS = new Set([401, 403, 404]);

export function classify(result: AttemptResult): Verdict {
  switch (result.kind) {
    case 'ready':
      return { kind: 'answer' };
    case 'aborted':
      return { kind: 'aborted' };
    case 'connect_error':
      return failover('connect_error', result.detail, { retryable: true });
    case 'timeout':
      return failover('timeout', result.detail, { retryable: false });
    case 'stream_error':
      return failover('stream_error', result.detail, { retryable: true });
    case 'http_error':
      return classifyHttpError(result.status, result.bodyText, result.retryAfterMs);
  }
}

function classifyHttpError(status: number, bodyText: string, retryAfterMs: number | null): Verdict {
  const error = normalizeErrorBody(status, bodyText);
  const upstream = { status, error };
  const detail = `${status} ${error.message.slice(0, 200)}`;
  if (status >= 500 || RETRYABLE_STATUS.has(status)) {
    return failover(String(status), detail, { retryable: true, rateLimited: status === 429, retryAfterMs, upstream });
  }
  if (MISCONFIGURED_BACKEND_STATUS.has(status)) {
    return failover(String(status), detail, { retryable: false, upstream });
  }
  if (isContextLengthError(status, error)) {
    // The target is healthy; the prompt is too long for it. Not a breaker failure.
    return failover(String(status), detail, { retryable: false, breakerFailure: false, upstream });
  }
  return { kind: 'client_error', status, error };
}

function failover(
  outcome: string,
  detail: string,
  options: {
    retryable: boolean;
    breakerFailure?: boolean;
    rateLimited?: boolean;
    retryAfterMs?: number | null;
    upstream?: { status: number; error: UpstreamErrorBody };
  },
): Verdict {
  return {
    kind: 'failover',
    outcome,
    detail,
    retryable: options.retryable,
    breakerFailure: options.breakerFailure ?? true,
    rateLimited: options.rateLimited ?? false,
    retryAfterMs: options.retryAfterMs ?? null,
    upstream: options.upstream ?? null,
  };
}
