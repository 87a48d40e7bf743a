/**
 * The node HTTP server. The three proxy endpoints are dispatched straight to
 * their node-native handler (request bodies and upstream streams stay node
 * streams end to end); everything else goes through the Hono app.
 */
import { getRequestListener } from '@hono/node-server';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { toHttpError } from './error-response.js';
import type { Gateway } from '../gateway.js';
import { createApp } from './app.js';
import { createProxyHandler, PROXY_ENDPOINTS } from './proxy.js';

/** Bounds on what a client may send before we even route it. */
const MAX_HEADER_BYTES = 32 * 1024;
const REQUEST_HEADERS_TIMEOUT_MS = 15_000;

/** Requests being answered right now, so a drain knows when it is done. */
export class InflightRequests {
  private count = 0;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  track(response: ServerResponse): void {
    this.count++;
    response.once('close', () => {
      this.count--;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves once no request is in flight. */
  settled(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

export function createGatewayServer(gateway: Gateway, version: string): { server: Server; inflight: InflightRequests } {
  const handleProxy = createProxyHandler(gateway);
  const handleOther = getRequestListener(createApp(gateway, version).fetch, { overrideGlobalObjects: false });
  const inflight = new InflightRequests();
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 0, headersTimeout: REQUEST_HEADERS_TIMEOUT_MS, keepAliveTimeout: 65_000 },
    function dispatch(request: IncomingMessage, response: ServerResponse) {
      inflight.track(response);
      // While draining, answers close their connection so clients reconnect elsewhere.
      if (gateway.draining) response.setHeader('connection', 'close');
      const endpoint = request.method === 'POST' ? PROXY_ENDPOINTS.get(pathOf(request.url)) : undefined;
      if (endpoint) handleProxy(request, response, endpoint);
      else void handleOther(request, response);
    },
  );
  // Long streams are normal for LLMs; per-request deadlines live in the attempt chain.
  server.timeout = 0;
  server.on('clientError', answerUnparseableRequest);
  return { server, inflight };
}

/**
 * Requests node's parser rejects (CR/LF or other bytes that could smuggle a
 * second request, oversized headers) still get an OpenAI-shaped answer, then
 * the connection is closed: after a framing error nothing more on it can be trusted.
 */
function answerUnparseableRequest(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const http = toHttpError(
    error.code === 'HPE_HEADER_OVERFLOW'
      ? { code: 'headers_too_large', limitBytes: MAX_HEADER_BYTES }
      : { code: 'malformed_http', detail: error.code ?? 'parse error' },
  );
  const body = JSON.stringify(http.body);
  const reason = http.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${http.status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
