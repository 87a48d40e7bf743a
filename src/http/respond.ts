/**
 * Writing finished responses to a node ServerResponse: JSON bodies and errors.
 * Error bodies always carry the OpenAI envelope (error-response.ts).
 */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors.js';
import { toHttpError } from './error-response.js';

export type HeaderMap = Record<string, string | string[]>;

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: HeaderMap = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  if (response.headersSent) {
    response.destroy();
    return;
  }
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(payload.length);
  response.writeHead(status, headers);
  response.end(payload);
}

/** Sends `error` with `headers` (request id, served-by...) plus the error's own headers. */
export function sendError(response: ServerResponse, error: GatewayError, headers: HeaderMap = {}): number {
  const http = toHttpError(error);
  sendJson(response, http.status, http.body, { ...headers, ...http.headers });
  return http.status;
}
