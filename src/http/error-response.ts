/**
 * THE mapping from GatewayError to an HTTP status, headers and the OpenAI error
 * envelope `{"error": {message, type, param, code}}`. Nowhere else decides these.
 */
import type { AttemptRecord, GatewayError } from '../errors.js';

export interface HttpError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: { message: string; type: string; param: string | null; code: string | number | null } };
}

export function toHttpError(error: GatewayError): HttpError {
  switch (error.code) {
    case 'invalid_json':
      return envelope(400, 'invalid_request_error', 'invalid_json', `the request body is not valid JSON: ${error.detail}`);
    case 'invalid_request':
      return envelope(400, 'invalid_request_error', 'invalid_request', error.message, error.param);
    case 'invalid_api_key':
      return envelope(
        401,
        'invalid_request_error',
        'invalid_api_key',
        'missing or incorrect API key: send "Authorization: Bearer <key>" with one of the gateway\'s client keys',
      );
    case 'admin_forbidden':
      return error.reason === 'bad_key'
        ? envelope(401, 'invalid_request_error', 'invalid_admin_key', 'missing or incorrect admin key: send "Authorization: Bearer <admin_key>"')
        : envelope(403, 'permission_error', 'admin_loopback_only', '/admin/* is served to loopback clients only while server.admin_key is empty');
    case 'model_not_found':
      return envelope(
        404,
        'invalid_request_error',
        'model_not_found',
        `The model \`${error.model}\` does not exist on this gateway. Available routes: ${error.available.join(', ') || '(none)'}`,
        'model',
      );
    case 'unknown_target':
      return envelope(
        400,
        'invalid_request_error',
        'unknown_target',
        `x-pinroute-target "${error.backend}" is not a target of route "${error.route}"; its backends: ${error.available.join(', ')}`,
        'x-pinroute-target',
      );
    case 'body_too_large':
      return envelope(413, 'invalid_request_error', 'body_too_large', `the request body is larger than ${error.limitBytes} bytes (server.max_body_bytes)`);
    case 'malformed_http':
      return envelope(400, 'invalid_request_error', 'malformed_http', `the HTTP request could not be parsed: ${error.detail}`, null, { connection: 'close' });
    case 'headers_too_large':
      return envelope(431, 'invalid_request_error', 'headers_too_large', `request headers are larger than ${error.limitBytes} bytes`, null, { connection: 'close' });
    case 'not_found':
      return envelope(404, 'invalid_request_error', 'not_found', `no such endpoint: ${error.method} ${error.path}`);
    case 'all_targets_failed':
      return withRetry(
        envelope(503, 'upstream_error', 'all_targets_failed', `every target of route "${error.route}" failed: ${describeAttempts(error.attempts)}`),
        error.retryAfterMs,
        { 'x-should-retry': 'false' },
      );
    case 'rate_limited':
      return withRetry(
        envelope(429, 'rate_limit_error', 'rate_limit_exceeded', `every target of route "${error.route}" is rate-limited: ${describeAttempts(error.attempts)}`),
        error.retryAfterMs,
      );
    case 'gateway_timeout':
      return envelope(
        504,
        'timeout_error',
        'gateway_timeout',
        `route "${error.route}" found no answer within timeouts.total_ms (${error.totalMs} ms): ${describeAttempts(error.attempts)}`,
        null,
        { 'x-should-retry': 'false' },
      );
    case 'revision_mismatch':
      return envelope(
        502,
        'upstream_error',
        'revision_mismatch',
        `backend "${error.backend}" serves revision "${error.observed}", not the pinned "${error.pinned}" (on_revision_mismatch: fail)`,
      );
    case 'target_unavailable':
      return withRetry(targetUnavailable(error), error.retryAfterMs);
    case 'upstream_http_error':
      return withRetry(
        { status: error.status, headers: {}, body: { error: { ...error.body } } },
        error.retryAfterMs,
      );
    case 'shutting_down':
      return envelope(503, 'server_error', 'shutting_down', 'the gateway is shutting down; retry on another replica', null, { connection: 'close' });
    case 'internal_error':
      return envelope(500, 'server_error', 'internal_error', `internal gateway error: ${error.detail}`);
  }
}

function targetUnavailable(error: Extract<GatewayError, { code: 'target_unavailable' }>): HttpError {
  const message = `forced target "${error.backend}" failed (${error.outcome}): ${error.detail}`;
  switch (error.outcome) {
    case 'timeout':
      return envelope(504, 'timeout_error', 'upstream_timeout', message);
    case 'breaker_open':
      return envelope(503, 'upstream_error', 'breaker_open', message);
    case 'down':
      return envelope(503, 'upstream_error', 'target_down', message);
    case 'revision_mismatch':
      return envelope(502, 'upstream_error', 'revision_mismatch', message);
    default:
      return envelope(502, 'upstream_error', error.outcome, message);
  }
}

/** "mirror: connect_error (ECONNREFUSED); local: 503 (server busy)" */
export function describeAttempts(attempts: readonly AttemptRecord[]): string {
  if (attempts.length === 0) return 'no target could be tried';
  return attempts.map((attempt) => `${attempt.backend}: ${attempt.outcome}${attempt.detail ? ` (${attempt.detail})` : ''}`).join('; ');
}

function envelope(
  status: number,
  type: string,
  code: string,
  message: string,
  param: string | null = null,
  headers: Record<string, string> = {},
): HttpError {
  return { status, headers, body: { error: { message, type, param, code } } };
}

/** retry-after (RFC 9110, whole seconds) and retry-after-ms (read first by the OpenAI SDKs). */
function withRetry(error: HttpError, retryAfterMs: number | null, extra: Record<string, string> = {}): HttpError {
  const headers: Record<string, string> = { ...error.headers, ...extra };
  if (retryAfterMs !== null && retryAfterMs >= 0) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.ceil(retryAfterMs));
  }
  return { ...error, headers };
}
