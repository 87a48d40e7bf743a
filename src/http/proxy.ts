/**
 * POST /v1/chat/completions, /v1/completions, /v1/embeddings. A node-native
 * handler (no web-stream conversion): authenticate, read and check the body,
 * resolve the route, run the attempt chain, then write its result: an answer
 * relayed from the upstream, the client's own error, or the gateway's error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledRoute, CompiledTarget } from '../config/table.js';
import type { AttemptRecord, GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { NO_ROUTE } from '../observe/metrics.js';
import { logRequest, type RequestRecord } from '../observe/request-log.js';
import { AttemptChain, type ChainResult, type ServedRevision } from '../routing/execute.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../upstream/headers.js';
import { sseErrorEvent } from '../upstream/sse.js';
import { clientKeysOf } from './auth.js';
import { readRequestBody, parseProxyBody, type ProxyBody } from './request-body.js';
import { requestIdOf } from './request-id.js';
import { sendError, type HeaderMap } from './respond.js';
import { attemptsHeader, HEADER, servedByHeaders } from './served-by.js';

/** nginx's convention for "the client closed the connection before the answer". */
const CLIENT_CLOSED_REQUEST = 499;

export type ProxyEndpoint = '/chat/completions' | '/completions' | '/embeddings';

export const PROXY_ENDPOINTS: ReadonlyMap<string, ProxyEndpoint> = new Map([
  ['/v1/chat/completions', '/chat/completions'],
  ['/v1/completions', '/completions'],
  ['/v1/embeddings', '/embeddings'],
]);

/** What a finished request reports to logs and metrics. */
interface Finish {
  route: CompiledRoute | null;
  target: CompiledTarget | null;
  revision: ServedRevision | null;
  attempts: readonly AttemptRecord[];
  status: number;
  stream: boolean;
  outcome: RequestRecord['outcome'];
  ttfbMs: number | null;
  upstreamTtfbMs: number | null;
  error?: string;
}

export function createProxyHandler(gateway: Gateway) {
  return function handleProxy(request: IncomingMessage, response: ServerResponse, endpoint: ProxyEndpoint): void {
    const startedAt = performance.now();
    const requestId = requestIdOf(request.headers);
    const table = gateway.table;

    const finish = (result: Finish) => {
      const durationMs = performance.now() - startedAt;
      const record: RequestRecord = {
        requestId,
        method: 'POST',
        path: `/v1${endpoint}`,
        route: result.route?.name ?? null,
        backend: result.target?.backend.name ?? null,
        model: result.target?.model ?? null,
        revision: result.revision?.value ?? null,
        revisionStatus: result.revision?.status ?? null,
        attempts: attemptsHeader(result.attempts),
        status: result.status,
        stream: result.stream,
        outcome: result.outcome,
        durationMs: Math.round(durationMs * 100) / 100,
        ttfbMs: result.ttfbMs === null ? null : Math.round(result.ttfbMs * 100) / 100,
        ...(result.error ? { error: result.error } : {}),
      };
      logRequest(gateway.logger, record);
      gateway.metrics.requestFinished({
        route: result.route?.name ?? NO_ROUTE,
        backend: result.target?.backend.name ?? NO_ROUTE,
        status: result.status,
        durationMs,
        upstreamTtfbMs: result.upstreamTtfbMs,
        attempts: result.attempts,
      });
      if (result.revision?.status === 'mismatch' && result.route && result.target && result.outcome === 'ok') {
        gateway.metrics.revisionServedMismatched(result.route.name, result.target.backend.name);
      }
    };

    /** Errors before any target is chosen: request id and, when known, the route. */
    const early = (error: GatewayError, route: CompiledRoute | null = null, stream = false) => {
      const headers: HeaderMap = { [HEADER.requestId]: requestId };
      if (route) headers[HEADER.route] = route.name;
      if (error.code === 'body_too_large') headers['connection'] = 'close';
      const status = sendError(response, error, headers);
      finish({ route, target: null, revision: null, attempts: [], status, stream, outcome: 'error', ttfbMs: null, upstreamTtfbMs: null, error: error.code });
    };

    if (gateway.draining) return early({ code: 'shutting_down' });
    if (!clientKeysOf(table).admits(request.headers)) return early({ code: 'invalid_api_key' });

    void readRequestBody(request, table.server.maxBodyBytes).then((raw) => {
      if (!Buffer.isBuffer(raw)) return early(raw);
      const body = parseProxyBody(raw, table.server.maxJsonDepth);
      if (!('withModel' in body)) return early(body);
      const route = table.routes.get(body.model);
      if (!route) return early({ code: 'model_not_found', model: body.model, available: table.routeNames });
      const forcedName = request.headers[HEADER.forceTarget];
      let forced: CompiledTarget | null = null;
      if (typeof forcedName === 'string') {
        forced = route.targetByBackend.get(forcedName) ?? null;
        if (!forced) {
          const available = route.targets.map((target) => target.backend.name);
          return early({ code: 'unknown_target', backend: forcedName.slice(0, 100), route: route.name, available }, route, body.stream);
        }
      }
      return runChain(gateway, request, response, { requestId, route, forced, endpoint, body, startedAt, finish });
    }).catch((error: unknown) => {
      // A bug must cost one request, never the process: answer 500 (or cut a started answer) and say why in the log.
      gateway.logger.error({ requestId, err: error instanceof Error ? error.stack : String(error) }, 'unexpected error in the request path');
      if (response.headersSent) response.destroy();
      else sendError(response, { code: 'internal_error', detail: `see the gateway log for request ${requestId}` }, { [HEADER.requestId]: requestId });
    });
  };
}

interface ChainContext {
  readonly requestId: string;
  readonly route: CompiledRoute;
  readonly forced: CompiledTarget | null;
  readonly endpoint: ProxyEndpoint;
  readonly body: ProxyBody;
  readonly startedAt: number;
  readonly finish: (result: Finish) => void;
}

async function runChain(
  gateway: Gateway,
  request: IncomingMessage,
  response: ServerResponse,
  context: ChainContext,
): Promise<void> {
  const { route, body, requestId } = context;
  const chain = new AttemptChain(
    {
      route,
      forced: context.forced,
      endpoint: context.endpoint,
      stream: body.stream,
      startedAt: Date.now() - (performance.now() - context.startedAt),
      bodyFor: (target) => body.withModel(target.model),
      headersFor: (target, length) => upstreamRequestHeaders(request.headers, target.backend, requestId, length),
    },
    gateway.registry,
    gateway.pools,
  );
  const onClientGone = () => {
    if (!response.writableFinished) chain.cancel();
  };
  response.on('close', onClientGone);
  const result = await chain.run();
  const headers: HeaderMap = { [HEADER.requestId]: requestId, [HEADER.route]: route.name };
  await writeResult(gateway, response, result, headers, context);
  response.off('close', onClientGone);
}

async function writeResult(gateway: Gateway, response: ServerResponse, result: ChainResult, headers: HeaderMap, context: ChainContext): Promise<void> {
  const { route, body, finish } = context;
  const base = { route, stream: body.stream, attempts: result.attempts, target: result.target, ttfbMs: null, upstreamTtfbMs: null };
  switch (result.kind) {
    case 'answer':
      return relayAnswer(gateway, response, result, headers, context);
    case 'aborted':
      response.destroy();
      return finish({ ...base, revision: null, status: CLIENT_CLOSED_REQUEST, outcome: 'client_gone' });
    case 'failed': {
      if (result.target && result.revision) servedByHeaders(headers, result.target, result.revision, result.attempts);
      else headers[HEADER.attempts] = attemptsHeader(result.attempts);
      const status = sendError(response, result.error, headers);
      return finish({ ...base, revision: result.revision, status, outcome: 'error', error: result.error.code });
    }
    case 'client_error': {
      servedByHeaders(headers, result.target, result.revision, result.attempts);
      const status = sendError(response, { code: 'upstream_http_error', status: result.status, body: result.error, retryAfterMs: null }, headers);
      return finish({ ...base, revision: result.revision, status, outcome: 'ok' });
    }
  }
}

async function relayAnswer(
  gateway: Gateway,
  response: ServerResponse,
  answer: Extract<ChainResult, { kind: 'answer' }>,
  headers: HeaderMap,
  context: ChainContext,
): Promise<void> {
  const { ready, exchange, breakerCall, target, revision } = answer;
  const base = { route: context.route, stream: context.body.stream, attempts: answer.attempts, target, revision, status: ready.status };
  if (response.destroyed) {
    exchange.cancel();
    breakerCall.neutral();
    return context.finish({ ...base, outcome: 'client_gone', ttfbMs: null, upstreamTtfbMs: ready.ttfbMs });
  }
  const out = Object.assign(downstreamResponseHeaders(ready.headers), headers);
  servedByHeaders(out, target, revision, answer.attempts);
  const ttfbMs = performance.now() - context.startedAt;
  if (ready.complete) {
    out['content-length'] = String(ready.head.length);
    response.writeHead(ready.status, out);
    response.end(ready.head);
    breakerCall.success();
    return context.finish({ ...base, outcome: 'ok', ttfbMs, upstreamTtfbMs: ready.ttfbMs });
  }
  if (ready.sse) out['x-accel-buffering'] = 'no';
  // Corked: when the upstream already sent everything (a short stream in one write), headers, body
  // and the end go out in one write instead of three. Otherwise it is uncorked as soon as relaying starts.
  response.cork();
  response.writeHead(ready.status, out);
  response.write(ready.head);
  const relayed = exchange.relay(response);
  if (exchange.relaying) response.uncork();
  const outcome = await relayed;
  switch (outcome.kind) {
    case 'complete':
      response.end();
      breakerCall.success();
      return context.finish({ ...base, outcome: 'ok', ttfbMs, upstreamTtfbMs: ready.ttfbMs });
    case 'client_gone':
      breakerCall.neutral();
      response.destroy();
      return context.finish({ ...base, outcome: 'client_gone', ttfbMs, upstreamTtfbMs: ready.ttfbMs });
    case 'broken': {
      breakerCall.failure();
      gateway.registry.recordResult(target, outcome.label, false, outcome.detail);
      const message = `backend "${target.backend.name}" (model ${target.model}, revision ${revision.value}) failed after the answer started: ${outcome.detail}`;
      // A JSON body cannot carry an error after it started: cut the connection so the client sees the truncation.
      if (ready.sse) response.end(sseErrorEvent(message, outcome.label === 'timeout' ? 'stream_timeout' : 'stream_error'));
      else response.destroy();
      return context.finish({ ...base, outcome: 'stream_error', ttfbMs, upstreamTtfbMs: ready.ttfbMs, error: outcome.detail });
    }
  }
}
