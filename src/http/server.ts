/**
 * The node HTTP server. The three proxy endpoints are dispatched straight to
 * their node-native handler (request bodies and upstream streams stay node
 * streams end to end); everything else goes through the Hono app.
 */
import { getRequestListener } from '@hono/node-server';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  return { server, inflight };
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
