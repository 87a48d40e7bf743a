/**
 * The floor: the least a Node gateway can do. A Hono app whose one handler
 * pipes the request to the upstream with undici and the answer back, node
 * streams end to end (no web-stream conversion, nothing parsed, nothing logged).
 * Usage: node --import tsx bench/floor.ts <upstream origin> [port]; prints {"port":N}.
 */
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { serve, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { Pool } from 'undici';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);
const upstream = new Pool(process.argv[2] ?? 'http://127.0.0.1:1', { connections: 256, keepAliveTimeout: 4000, pipelining: 1 });
const app = new Hono<{ Bindings: HttpBindings }>();

app.post('/v1/*', async (context) => {
  const { incoming, outgoing } = context.env;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (incoming.headers['content-length']) headers['content-length'] = incoming.headers['content-length'];
  const answer = await upstream.request({ method: 'POST', path: incoming.url ?? '/', headers, body: incoming });
  for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) outgoing.setHeader(name, value);
  outgoing.writeHead(answer.statusCode);
  pipeline(answer.body, outgoing, () => {});
  return RESPONSE_ALREADY_SENT;
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.argv[3] ?? 0) }, (info: AddressInfo) => {
  process.stdout.write(`${JSON.stringify({ port: info.port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
