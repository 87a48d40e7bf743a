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

export function createGatewayServer(gateway: Gateway, version: string): Server {
  const handleProxy = createProxyHandler(gateway);
  const handleOther = getRequestListener(createApp(gateway, version).fetch, { overrideGlobalObjects: false });
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 0, headersTimeout: REQUEST_HEADERS_TIMEOUT_MS, keepAliveTimeout: 65_000 },
    function dispatch(request: IncomingMessage, response: ServerResponse) {
      const endpoint = request.method === 'POST' ? PROXY_ENDPOINTS.get(pathOf(request.url)) : undefined;
      if (endpoint) handleProxy(request, response, endpoint);
      else void handleOther(request, response);
    },
  );
  // Long streams are normal for LLMs; per-request deadlines live in the attempt chain.
  server.timeout = 0;
  return server;
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
