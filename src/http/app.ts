/**
 * The Hono app for everything but the proxy endpoints: model listing, health,
 * metrics and admin. Every error it returns uses the OpenAI envelope.
 */
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { buildStatus } from '../observe/status.js';
import { adminKeysOf, clientKeysOf, isLoopback } from './auth.js';
import { toHttpError } from './error-response.js';
import { requestIdOf } from './request-id.js';

type Env = { Bindings: HttpBindings; Variables: { requestId: string } };

export function createApp(gateway: Gateway, version: string): Hono<Env> {
  const app = new Hono<Env>();

  app.use('*', async function assignRequestId(c, next) {
    const requestId = requestIdOf(c.env.incoming.headers);
    c.set('requestId', requestId);
    await next();
    c.header('x-request-id', requestId);
  });

  app.use('/v1/*', async function requireClientKey(c, next) {
    if (!clientKeysOf(gateway.table).admits(c.env.incoming.headers)) return fail(c, { code: 'invalid_api_key' });
    return next();
  });

  app.use('/admin/*', async function requireAdmin(c, next) {
    const table = gateway.table;
    if (table.server.adminKey === '') {
      if (!isLoopback(c.env.incoming.socket.remoteAddress)) return fail(c, { code: 'admin_forbidden', reason: 'not_loopback' });
    } else if (!adminKeysOf(table).admits(c.env.incoming.headers)) {
      return fail(c, { code: 'admin_forbidden', reason: 'bad_key' });
    }
    return next();
  });

  app.get('/v1/models', function listModels(c) {
    return c.json({ object: 'list', data: gateway.table.routeNames.map((name) => modelCard(name, gateway.startedAt)) });
  });

  app.get('/v1/models/:id{.+}', function getModel(c) {
    const id = c.req.param('id');
    const table = gateway.table;
    if (!table.routes.has(id)) return fail(c, { code: 'model_not_found', model: id, available: table.routeNames });
    return c.json(modelCard(id, gateway.startedAt));
  });

  app.get('/healthz', function alive(c) {
    return c.json({ status: 'ok' });
  });

  app.get('/readyz', function ready(c) {
    if (gateway.draining) return c.json({ status: 'draining' }, 503);
    return c.json({ status: 'ready', routes: gateway.table.routeNames.length });
  });

  app.get('/metrics', async function metrics(c) {
    return c.body(await gateway.metrics.render(), 200, { 'content-type': gateway.metrics.contentType });
  });

  app.get('/admin/status', function status(c) {
    return c.json(buildStatus(gateway, version));
  });

  app.notFound(function notFound(c) {
    return fail(c, { code: 'not_found', method: c.req.method, path: new URL(c.req.url).pathname.slice(0, 200) });
  });

  app.onError(function internalError(error, c) {
    gateway.logger.error({ requestId: c.get('requestId'), err: error.message }, 'unhandled error');
    return fail(c, { code: 'internal_error', detail: 'see the gateway log for this request id' });
  });

  return app;
}

function modelCard(id: string, startedAt: number) {
  return { id, object: 'model', created: Math.floor(startedAt / 1000), owned_by: 'pinroute' };
}

function fail(c: Context<Env>, error: GatewayError): Response {
  const http = toHttpError(error);
  for (const [name, value] of Object.entries(http.headers)) c.header(name, value);
  return c.json(http.body, http.status as 400);
}
