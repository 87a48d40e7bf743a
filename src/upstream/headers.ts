/**
 * Which headers cross the gateway. Hop-by-hop headers (RFC 9110 §7.6.1) never do;
 * the client's credentials never reach an upstream (the backend's own key is
 * injected instead); upstream framing is recomputed on our side.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledBackend } from '../config/table.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Client request headers that are ours, the client's secrets, or recomputed. */
const NOT_FORWARDED_UPSTREAM = new Set([
  ...HOP_BY_HOP,
  'host',
  'content-length',
  'authorization',
  'x-api-key',
  'api-key',
  'cookie',
  // Compressed upstream bodies would hide the response `model` from the revision check.
  'accept-encoding',
  // They name the client's own OpenAI account, not the backend's.
  'openai-organization',
  'openai-project',
  'x-request-id',
  'x-pinroute-target',
]);

/** Upstream response headers we replace with our own or that do not apply to our framing. */
const NOT_FORWARDED_DOWNSTREAM = new Set([
  ...HOP_BY_HOP,
  'content-length',
  'content-encoding',
  'x-request-id',
  'date',
  'server',
  'set-cookie',
  'alt-svc',
]);

export function upstreamRequestHeaders(
  client: IncomingHttpHeaders,
  backend: CompiledBackend,
  requestId: string,
  contentLength: number,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in client) {
    if (NOT_FORWARDED_UPSTREAM.has(name) || name.startsWith('x-pinroute-')) continue;
    const value = client[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  Object.assign(headers, backend.extraHeaders);
  if (backend.apiKey !== '') headers['authorization'] = `Bearer ${backend.apiKey}`;
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(contentLength);
  headers['x-request-id'] = requestId;
  return headers;
}

/** Headers for probe GETs: the backend's key and extra headers only. */
export function probeHeaders(backend: CompiledBackend): Record<string, string> {
  const headers: Record<string, string> = { ...backend.extraHeaders, accept: 'application/json' };
  if (backend.apiKey !== '') headers['authorization'] = `Bearer ${backend.apiKey}`;
  return headers;
}

/** The upstream response headers worth passing on (rate-limit info, content-type, ...). */
export function downstreamResponseHeaders(upstream: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in upstream) {
    if (NOT_FORWARDED_DOWNSTREAM.has(name)) continue;
    const value = upstream[name];
    if (value !== undefined) headers[name] = value;
  }
  const upstreamRequestId = upstream['x-request-id'];
  if (typeof upstreamRequestId === 'string') headers['x-upstream-request-id'] = upstreamRequestId;
  return headers;
}
