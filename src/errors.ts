/**
 * Every failure the gateway reports to a client is one of these values. They carry
 * a stable `code` and the facts needed to explain it; they know nothing about HTTP.
 * `http/error-response.ts` is the one place that maps them to a status and the
 * OpenAI error envelope.
 */

/** One entry of `x-pinroute-attempts`: which backend, and what happened there. */
export interface AttemptRecord {
  readonly backend: string;
  /** An HTTP status ("503") or a label: connect_error, timeout, breaker_open, down, revision_mismatch, stream_error. */
  readonly outcome: string;
  /** Human detail for error messages (never sent as a header). */
  readonly detail?: string;
}

/** An upstream's own error, normalised to the OpenAI envelope fields. */
export interface UpstreamErrorBody {
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | number | null;
}

export type GatewayError =
  | { readonly code: 'invalid_json'; readonly detail: string }
  | { readonly code: 'invalid_request'; readonly message: string; readonly param: string | null }
  | { readonly code: 'invalid_api_key' }
  | { readonly code: 'admin_forbidden'; readonly reason: 'bad_key' | 'not_loopback' }
  | { readonly code: 'model_not_found'; readonly model: string; readonly available: readonly string[] }
  | { readonly code: 'unknown_target'; readonly backend: string; readonly route: string; readonly available: readonly string[] }
  | { readonly code: 'body_too_large'; readonly limitBytes: number }
  | { readonly code: 'not_found'; readonly method: string; readonly path: string }
  /** The HTTP request itself could not be parsed (bad framing, CR/LF in a header...). */
  | { readonly code: 'malformed_http'; readonly detail: string }
  | { readonly code: 'headers_too_large'; readonly limitBytes: number }
  | { readonly code: 'all_targets_failed'; readonly route: string; readonly attempts: readonly AttemptRecord[]; readonly retryAfterMs: number | null }
  | { readonly code: 'rate_limited'; readonly route: string; readonly attempts: readonly AttemptRecord[]; readonly retryAfterMs: number }
  | { readonly code: 'gateway_timeout'; readonly route: string; readonly totalMs: number; readonly attempts: readonly AttemptRecord[] }
  | { readonly code: 'revision_mismatch'; readonly backend: string; readonly pinned: string; readonly observed: string }
  /** A forced target (x-pinroute-target) failed without an HTTP answer of its own. */
  | { readonly code: 'target_unavailable'; readonly backend: string; readonly outcome: string; readonly detail: string; readonly retryAfterMs: number | null }
  | { readonly code: 'upstream_http_error'; readonly status: number; readonly body: UpstreamErrorBody; readonly retryAfterMs: number | null }
  | { readonly code: 'shutting_down' }
  | { readonly code: 'internal_error'; readonly detail: string };
