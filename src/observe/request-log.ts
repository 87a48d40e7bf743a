/**
 * The one log line per request (SPEC §7): who asked for what route, who served
 * it at which revision, how the attempts went, and how long it took. It never
 * holds prompt or completion text, nor any header value but the request id.
 */
import type { Logger } from './logger.js';

export interface RequestRecord {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly route: string | null;
  readonly backend: string | null;
  readonly model: string | null;
  readonly revision: string | null;
  readonly revisionStatus: string | null;
  /** The x-pinroute-attempts value. */
  readonly attempts: string;
  readonly status: number;
  readonly stream: boolean;
  /** How the response ended: answered, failed, or cut short after it started. */
  readonly outcome: 'ok' | 'error' | 'stream_error' | 'client_gone';
  readonly durationMs: number;
  /** Time until the first byte went to the client. */
  readonly ttfbMs: number | null;
  readonly error?: string;
}

export function logRequest(logger: Logger, record: RequestRecord): void {
  // Client mistakes (4xx) are routine; failures the gateway could not absorb are not.
  if (record.status < 500 && record.outcome !== 'stream_error') logger.info(record, 'request');
  else logger.warn(record, 'request');
}
