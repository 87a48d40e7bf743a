/**
 * A real loopback HTTP server standing in for vLLM, Ollama, OpenAI...: each
 * completion request takes the next scripted behaviour (or the default one), and
 * every request is recorded, so tests assert which upstream was hit how often.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Behavior =
  /** A normal answer: JSON, or an SSE stream when the request asked for one. */
  | { readonly kind: 'ok'; readonly model?: string; readonly delayMs?: number; readonly content?: string }
  | {
      readonly kind: 'stream';
      readonly model?: string;
      readonly chunks?: number;
      /** Headers are sent at once; the first event after this long. */
      readonly firstChunkDelayMs?: number;
      readonly intervalMs?: number;
      /** Close the connection abruptly after this many events. */
      readonly dropAfter?: number;
      /** Send this many events, then nothing more (connection stays open). */
      readonly stallAfter?: number;
      readonly malformedFirst?: boolean;
      /** The whole stream, [DONE] included, in one write that also ends the response. */
      readonly oneWrite?: boolean;
      readonly inBandErrorFirst?: boolean;
      /** End the stream cleanly but without data: [DONE]. */
      readonly omitDone?: boolean;
    }
  | { readonly kind: 'status'; readonly status: number; readonly body?: string | object; readonly headers?: Record<string, string> }
  /** Destroy the socket before any response byte. */
  | { readonly kind: 'reset' }
  /** Never answer. */
  | { readonly kind: 'hang' }
  /** One behaviour for streamed requests (`stream: true`), another for the rest. */
  | { readonly kind: 'split'; readonly stream: Behavior; readonly plain: Behavior };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly json: Record<string, unknown> | null;
  /** Epoch ms when the request was received. */
  readonly at: number;
}

export interface ProbeAnswer {
  readonly status: number;
  readonly body?: string | object;
}

export interface FakeUpstreamOptions {
  /** The model every answer names (vLLM, OpenAI); default: echo the request's model (Ollama, TGI). */
  readonly servedModel?: string;
  readonly basePath?: string;
  /** GET answers by path, for probes (/health, /v1/models, /info, /api/tags...). */
  readonly probes?: Record<string, ProbeAnswer>;
}

export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  /** Streams whose reader (the gateway) went away before the stream ended. */
  abortedStreams = 0;
  private readonly queue: Behavior[] = [];
  private fallback: Behavior = { kind: 'ok' };
  private readonly rules: { readonly match: (request: RecordedRequest) => boolean; readonly behavior: Behavior }[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly probeAnswers = new Map<string, ProbeAnswer>();
  servedModel: string | undefined;

  private server: Server;
  private listenPort = 0;

  private constructor(
    readonly basePath: string,
    options: FakeUpstreamOptions,
  ) {
    this.server = this.createServer();
    this.servedModel = options.servedModel;
    for (const [path, answer] of Object.entries(options.probes ?? {})) this.probeAnswers.set(path, answer);
  }

  static async start(options: FakeUpstreamOptions = {}, port = 0): Promise<FakeUpstream> {
    const upstream = new FakeUpstream(options.basePath ?? '/v1', options);
    await upstream.listen(port);
    return upstream;
  }

  /** The port it listens on; kept across close() and reopen(). */
  get port(): number {
    return this.listenPort;
  }

  /** base_url for the gateway config. */
  get url(): string {
    return `http://127.0.0.1:${this.port}${this.basePath}`;
  }

  /** Completion requests received (probes excluded). */
  get hits(): number {
    return this.completionRequests().length;
  }

  completionRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.method === 'POST');
  }

  probeHits(path: string): number {
    return this.requests.filter((request) => request.method === 'GET' && request.path === path).length;
  }

  /** Behaviours for the next completion requests, in order. */
  script(...behaviors: Behavior[]): this {
    this.queue.push(...behaviors);
    return this;
  }

  /** Behaviour once the script is used up. */
  setDefault(behavior: Behavior): this {
    this.fallback = behavior;
    return this;
  }

  setProbe(path: string, answer: ProbeAnswer): this {
    this.probeAnswers.set(path, answer);
    return this;
  }

  /**
   * Requests matching `match` get `behavior`, before the script and the default,
   * until the returned function removes the rule.
   */
  when(match: (request: RecordedRequest) => boolean, behavior: Behavior): () => void {
    const rule = { match, behavior };
    this.rules.push(rule);
    return () => {
      const index = this.rules.indexOf(rule);
      if (index >= 0) this.rules.splice(index, 1);
    };
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.rules.length = 0;
    this.fallback = { kind: 'ok' };
    this.abortedStreams = 0;
  }

  /** Forgets the recorded requests only (long runs keep memory bounded this way). */
  clearRecords(): void {
    this.requests.length = 0;
  }

  /** Stops listening and cuts every open connection (a crashed upstream). */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port after close(): the crashed upstream restarted. */
  async reopen(): Promise<void> {
    if (this.server.listening) return;
    this.server = this.createServer();
    await this.listen(this.listenPort);
  }

  private createServer(): Server {
    const server = createServer((request, response) => void this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  private async listen(port: number): Promise<void> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.listenPort = (this.server.address() as AddressInfo).port;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let json: Record<string, unknown> | null = null;
    try {
      json = body ? (JSON.parse(body) as Record<string, unknown>) : null;
    } catch {
      json = null;
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const recorded: RecordedRequest = { method: request.method ?? 'GET', path, headers: request.headers, body, json, at: Date.now() };
    this.requests.push(recorded);
    if (request.method === 'GET') return this.answerProbe(path, response);
    const behavior = this.rules.find((rule) => rule.match(recorded))?.behavior ?? this.queue.shift() ?? this.fallback;
    await this.behave(behavior, json, path, request, response);
  }

  private answerProbe(path: string, response: ServerResponse): void {
    const answer = this.probeAnswers.get(path) ?? this.defaultProbe(path);
    if (!answer) return writeJson(response, 404, { error: { message: `no probe answer for ${path}`, type: 'not_found' } });
    if (answer.body === undefined) {
      response.writeHead(answer.status);
      response.end();
      return;
    }
    writeJson(response, answer.status, answer.body);
  }

  /** A healthy server by default: /health and /api/version answer 200, the listing names the served model. */
  private defaultProbe(path: string): ProbeAnswer | undefined {
    if (path === '/health' || path === '/api/version') return { status: 200, body: { status: 'ok' } };
    if (path === `${this.basePath}/models`) {
      const id = this.servedModel ?? 'fake-model';
      return { status: 200, body: { object: 'list', data: [{ id, object: 'model', created: 0, owned_by: 'fake', root: id }] } };
    }
    if (path.startsWith(`${this.basePath}/models/`)) {
      return { status: 200, body: { id: decodeURIComponent(path.slice(this.basePath.length + 8)), object: 'model', created: 0, owned_by: 'fake' } };
    }
    return undefined;
  }

  private async behave(behavior: Behavior, json: Record<string, unknown> | null, path: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const model = this.servedModel ?? (typeof json?.['model'] === 'string' ? json['model'] : 'unknown');
    switch (behavior.kind) {
      case 'split':
        return this.behave(json?.['stream'] === true ? behavior.stream : behavior.plain, json, path, request, response);
      case 'reset':
        request.socket.destroy();
        return;
      case 'hang':
        return;
      case 'status':
        if (typeof behavior.body === 'string') {
          response.writeHead(behavior.status, { 'content-type': 'text/plain', ...behavior.headers });
          response.end(behavior.body);
        } else {
          writeJson(response, behavior.status, behavior.body ?? { error: { message: `scripted ${behavior.status}`, type: 'server_error', param: null, code: null } }, behavior.headers);
        }
        return;
      case 'ok':
        if (behavior.delayMs) await sleep(behavior.delayMs);
        if (json?.['stream'] === true) return this.stream({ kind: 'stream', model: behavior.model ?? model }, model, response);
        return writeJson(response, 200, completionBody(path, behavior.model ?? model, behavior.content ?? 'Hello from the fake upstream'));
      case 'stream':
        return this.stream(behavior, model, response);
    }
  }

  private async stream(behavior: Extract<Behavior, { kind: 'stream' }>, model: string, response: ServerResponse): Promise<void> {
    const served = behavior.model ?? model;
    response.on('close', () => {
      if (!response.writableFinished) this.abortedStreams++;
    });
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.flushHeaders();
    if (behavior.firstChunkDelayMs) await sleep(behavior.firstChunkDelayMs);
    const count = behavior.chunks ?? 3;
    if (behavior.oneWrite) {
      const events = Array.from({ length: count }, (_, index) => `data: ${JSON.stringify(chunkBody(served, index, index === count - 1))}\n\n`);
      response.end(`${events.join('')}data: [DONE]\n\n`);
      return;
    }
    for (let index = 0; index < count; index++) {
      if (response.destroyed) return;
      if (behavior.dropAfter !== undefined && index === behavior.dropAfter) {
        response.socket?.destroy();
        return;
      }
      if (behavior.stallAfter !== undefined && index === behavior.stallAfter) return;
      if (index === 0 && behavior.malformedFirst) response.write('data: {"id": "chatcmpl-1", "choices": [\n\n');
      else if (index === 0 && behavior.inBandErrorFirst) {
        response.write(`data: ${JSON.stringify({ error: { message: 'engine overloaded', type: 'server_error', code: 500 } })}\n\n`);
      } else response.write(`data: ${JSON.stringify(chunkBody(served, index, index === count - 1))}\n\n`);
      if (behavior.intervalMs) await sleep(behavior.intervalMs);
    }
    if (!behavior.omitDone) response.write('data: [DONE]\n\n');
    response.end();
  }
}

function completionBody(path: string, model: string, content: string): object {
  if (path.endsWith('/embeddings')) {
    return { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], model, usage: { prompt_tokens: 3, total_tokens: 3 } };
  }
  if (path.endsWith('/chat/completions')) {
    return {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1737000000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
    };
  }
  return {
    id: 'cmpl-fake',
    object: 'text_completion',
    created: 1737000000,
    model,
    choices: [{ index: 0, text: content, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
  };
}

function chunkBody(model: string, index: number, last: boolean): object {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: 1737000000,
    model,
    choices: [{ index: 0, delta: index === 0 ? { role: 'assistant', content: 'tok0' } : { content: ` tok${index}` }, logprobs: null, finish_reason: last ? 'stop' : null }],
  };
}

function writeJson(response: ServerResponse, status: number, body: string | object, headers: Record<string, string> = {}): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
  response.end(payload);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
