/**
 * The fake upstream, run as its own process (on the load generator's core):
 * raw node:http, precomputed buffers, nothing parsed. POST bodies are scanned
 * for `"stream":true` and for the paced model's name:
 *   - JSON: a ~700 B chat completion;
 *   - stream: 20 SSE events and [DONE] in one write;
 *   - paced stream (model name contains "paced"): one event every 5 ms.
 * GET /v1/models answers the gateways' health probes.
 * Prints `{"port":N}` on stdout once listening on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { COMPLETION_BODY, MODELS_BODY, PACED_INTERVAL_MS, STREAM_BODY, STREAM_DONE, STREAM_EVENT_BUFFERS } from './payloads.js';

const JSON_HEADERS = ['content-type', 'application/json', 'content-length', String(COMPLETION_BODY.length), 'x-request-id', 'req_bench'];
const MODELS_HEADERS = ['content-type', 'application/json', 'content-length', String(MODELS_BODY.length)];
const SSE_HEADERS = ['content-type', 'text/event-stream', 'cache-control', 'no-cache', 'transfer-encoding', 'chunked', 'x-request-id', 'req_bench'];
const STREAM_MARK = Buffer.from('"stream":true');
const PACED_MARK = Buffer.from('paced');

function answer(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
  if (request.method === 'GET') {
    response.writeHead(200, MODELS_HEADERS).end(MODELS_BODY);
    return;
  }
  if (body.indexOf(STREAM_MARK) === -1) {
    response.writeHead(200, JSON_HEADERS).end(COMPLETION_BODY);
    return;
  }
  response.writeHead(200, SSE_HEADERS);
  if (body.indexOf(PACED_MARK) === -1) {
    response.end(STREAM_BODY);
    return;
  }
  let next = 0;
  const timer = setInterval(() => {
    const event = STREAM_EVENT_BUFFERS[next++];
    if (event) response.write(event);
    else {
      clearInterval(timer);
      response.end(STREAM_DONE);
    }
  }, PACED_INTERVAL_MS);
  response.once('close', () => clearInterval(timer));
}

const server = createServer({ keepAliveTimeout: 120_000, requestTimeout: 0 }, (request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => answer(request, response, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('upstream: no TCP address');
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
