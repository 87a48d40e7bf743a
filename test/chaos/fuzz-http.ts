/**
 * Fuzzing the HTTP surface with fast-check: request bodies (arbitrary JSON,
 * near-valid chat bodies with wrong types, huge strings, deep nesting, raw
 * bytes, truncated JSON) and headers (x-request-id, x-pinroute-target,
 * authorization and others, with bytes no SDK would send, over a raw socket).
 *
 * Properties: an answer always comes (per-request timeout), with a clean status;
 * every non-2xx is the OpenAI error envelope and never 500 `internal_error`; the
 * status is the one a small model of the README predicts (413, 400, 401, 404 or
 * 200, the x-request-id echo rule); the gateway process stays up.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { FUZZ_BACKENDS, FUZZ_CLIENT_KEY, FUZZ_MAX_BODY_BYTES, FUZZ_MAX_JSON_DEPTH, FUZZ_ROUTES, type FuzzTarget } from './fuzz-target.js';

export interface FuzzOutcome {
  readonly name: string;
  readonly runs: number;
  readonly ok: boolean;
  readonly detail: string;
}

const REQUEST_TIMEOUT_MS = 8000;
const ENDPOINTS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The README's rules for a body, in order: size, JSON, depth, object, model, route. */
export function expectedBodyStatus(body: Uint8Array): number {
  if (body.length > FUZZ_MAX_BODY_BYTES) return 413;
  const text = Buffer.from(body).toString('utf8');
  if (text.trim() === '') return 400;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 400;
  }
  if (depthOf(parsed) > FUZZ_MAX_JSON_DEPTH) return 400;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 400;
  const model = (parsed as { model?: unknown }).model;
  if (typeof model !== 'string' || model === '') return 400;
  return (FUZZ_ROUTES as readonly string[]).includes(model) ? 200 : 404;
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

const jsonText = (value: unknown): string => JSON.stringify(value) ?? 'null';
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

const modelArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FUZZ_ROUTES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(null), fc.constant(''), fc.boolean(), fc.jsonValue({ maxDepth: 2 })) },
);

const messagesArbitrary = fc.oneof(
  fc.constant([{ role: 'user', content: 'hi' }]),
  fc.array(fc.record({ role: fc.constantFrom('user', 'system', 'assistant', 'tool', 'bogus'), content: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 })) }), { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A chat body with some fields right, some of the wrong type, some missing, plus unknown ones. */
const nearValidBody = fc
  .record(
    {
      model: modelArbitrary,
      messages: messagesArbitrary,
      stream: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
      max_tokens: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 })),
      seed: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n }).map((value) => value.toString()), fc.integer()),
      extra: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, seed, ...fields }) => {
    // A 64-bit seed written as a bare number: JSON.stringify cannot, so splice it in.
    const text = jsonText({ ...extra, ...fields });
    return utf8(seed === undefined || text === '{}' ? text : `${text.slice(0, -1)},"seed":${seed}}`);
  });

const hugeStringBody = fc
  .tuple(fc.string({ minLength: 1, maxLength: 6, unit: 'grapheme' }), fc.integer({ min: 1000, max: FUZZ_MAX_BODY_BYTES * 2 }))
  .map(([unit, length]) => utf8(jsonText({ model: 'chat', messages: [{ role: 'user', content: unit.repeat(Math.ceil(length / unit.length)).slice(0, length) }] })));

const deepBody = fc
  .tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([depth, open, balanced]) => {
    const close = open === '[' ? ']' : '}';
    const inner = open.repeat(depth) + '1' + close.repeat(balanced ? depth : Math.floor(depth / 2));
    return utf8(`{"model":"chat","messages":[{"role":"user","content":"x"}],"deep":${inner}}`);
  });

const truncatedBody = fc
  .tuple(nearValidBody, fc.nat())
  .map(([body, cut]) => body.slice(0, body.length === 0 ? 0 : cut % body.length));

const bodyArbitrary = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => utf8(jsonText(value))) },
  { weight: 6, arbitrary: nearValidBody },
  { weight: 2, arbitrary: hugeStringBody },
  { weight: 2, arbitrary: deepBody },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  { weight: 2, arbitrary: truncatedBody },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', 'null', '[]', '{}', '{"model":"chat"}', '\uFEFF{"model":"chat"}').map(utf8) },
);

/** Bodies: arbitrary and near-valid, through fetch with a valid key. */
export async function fuzzBodies(target: FuzzTarget, numRuns: number, seed: number): Promise<FuzzOutcome> {
  const property = fc.asyncProperty(bodyArbitrary, fc.constantFrom(...ENDPOINTS), fc.constantFrom('application/json', 'text/plain', ''), async (body, endpoint, contentType) => {
    const expected = expectedBodyStatus(body);
    const response = await fetch(`${target.url}${endpoint}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${FUZZ_CLIENT_KEY}`, ...(contentType ? { 'content-type': contentType } : {}) },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    assertCleanAnswer(response.status, response.headers.get('content-type'), text);
    if (response.status !== expected) throw new Error(`expected ${expected}, got ${response.status}: ${text.slice(0, 200)}`);
    if (!response.headers.get('x-request-id')) throw new Error('no x-request-id');
  });
  return runProperty('request bodies', property, numRuns, seed, target);
}

interface RawCase {
  readonly name: string;
  readonly value: Buffer;
  readonly withKey: boolean;
}

const headerNameArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('x-request-id', 'x-pinroute-target', 'authorization') },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((name) => `x-fuzz-${name}`) },
  { weight: 1, arbitrary: fc.constantFrom('x-api-key', 'content-length', 'transfer-encoding', 'host', 'openai-organization') },
);

const headerValueArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:@/+=-]{1,140}$/).map((text) => Buffer.from(text, 'latin1')) },
  { weight: 2, arbitrary: fc.constantFrom(...FUZZ_BACKENDS, `Bearer ${FUZZ_CLIENT_KEY}`, `bearer   ${FUZZ_CLIENT_KEY}  `, 'Bearer', 'Basic abc', 'chunked', '0', '-1').map((text) => Buffer.from(text, 'latin1')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((text) => Buffer.from(text, 'latin1')) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map((text) => Buffer.from(text, 'utf8')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.integer({ min: 8 * 1024, max: 48 * 1024 }).map((length) => Buffer.alloc(length, 'a')) },
);

const rawCaseArbitrary = fc.record({ name: headerNameArbitrary, value: headerValueArbitrary, withKey: fc.boolean() });

/** Headers: one fuzzed header on an otherwise valid request, over a raw socket. */
export async function fuzzHeaders(target: FuzzTarget, numRuns: number, seed: number): Promise<FuzzOutcome> {
  const property = fc.asyncProperty(rawCaseArbitrary, async (raw) => {
    const answer = await rawRequest(target.gateway.port, raw);
    if (answer === null) throw new Error('no HTTP answer (connection closed or timed out)');
    assertCleanAnswer(answer.status, answer.headers.get('content-type') ?? null, answer.body);
    const expected = expectedHeaderStatus(raw);
    if (expected !== null && answer.status !== expected) throw new Error(`expected ${expected}, got ${answer.status}: ${answer.body.slice(0, 200)}`);
    const echoed = answer.headers.get('x-request-id');
    if (answer.status < 500 && ![400, 431].includes(answer.status) && echoed === undefined) throw new Error('no x-request-id');
    if (raw.name === 'x-request-id' && echoed !== undefined && clean(raw.value)) {
      const given = raw.value.toString('latin1').trim();
      const wanted = SAFE_REQUEST_ID.test(given) ? given : 'a new UUID';
      if (!(echoed === given && SAFE_REQUEST_ID.test(given)) && !(UUID.test(echoed) && !SAFE_REQUEST_ID.test(given))) {
        throw new Error(`x-request-id ${JSON.stringify(given)} answered with ${JSON.stringify(echoed)}, wanted ${wanted}`);
      }
    }
  });
  return runProperty('request headers (raw socket)', property, numRuns, seed, target);
}

/** Visible ASCII and inner spaces only: what node passes through untouched, so the outcome is predictable. */
function clean(value: Buffer): boolean {
  if (value.length === 0 || value.length > 4096) return false;
  for (const byte of value) if (byte < 0x20 || byte > 0x7e) return false;
  return true;
}

/** The status the README predicts for a valid request with this header, or null when only "clean" is required. */
function expectedHeaderStatus(raw: RawCase): number | null {
  if (!clean(raw.value)) return null;
  const value = raw.value.toString('latin1').trim();
  const hasKey = (raw.withKey && raw.name !== 'authorization') || (raw.name === 'authorization' && presentsKey(value));
  switch (raw.name) {
    case 'authorization':
      return hasKey ? 200 : 401;
    case 'x-api-key':
      // Authorization (when sent) is looked at first; alone, x-api-key is a key too.
      return raw.withKey || value === FUZZ_CLIENT_KEY ? 200 : 401;
    case 'x-pinroute-target':
      if (!hasKey) return 401;
      return (FUZZ_BACKENDS as readonly string[]).includes(value) ? 200 : 400;
    case 'content-length':
    case 'transfer-encoding':
    case 'host':
      return null;
    default:
      return hasKey ? 200 : 401;
  }
}

function presentsKey(value: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(value);
  return match?.[1]?.trim() === FUZZ_CLIENT_KEY;
}

/** Every answer: a clean status; anything but 2xx is the OpenAI envelope, never 500 internal_error. */
function assertCleanAnswer(status: number, contentType: string | null | undefined, body: string): void {
  if (status < 200 || status > 599) throw new Error(`status ${status}`);
  if (status >= 200 && status < 300) {
    if (contentType?.includes('text/event-stream')) {
      if (!/data: \[DONE\]\s*$/.test(body)) throw new Error('a 200 stream that did not end with [DONE]');
    } else {
      JSON.parse(body);
    }
    return;
  }
  let error: { message?: unknown; type?: unknown; param?: unknown; code?: unknown } | undefined;
  try {
    error = (JSON.parse(body) as { error?: typeof error }).error;
  } catch {
    throw new Error(`status ${status} with a body that is not JSON: ${body.slice(0, 120)}`);
  }
  if (!error || typeof error.message !== 'string' || typeof error.type !== 'string' || !('param' in error) || !('code' in error)) {
    throw new Error(`status ${status} without the OpenAI error envelope: ${body.slice(0, 200)}`);
  }
  if (status === 500 && error.code === 'internal_error') throw new Error(`500 internal_error: ${error.message}`);
}

interface RawAnswer {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: string;
}

/** Sends one hand-built HTTP/1.1 request and reads the whole answer (connection: close). */
function rawRequest(port: number, raw: RawCase): Promise<RawAnswer | null> {
  const body = Buffer.from(JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }));
  const lines = [
    'POST /v1/chat/completions HTTP/1.1',
    'host: 127.0.0.1',
    'content-type: application/json',
    `content-length: ${body.length}`,
    'connection: close',
    ...(raw.withKey && raw.name !== 'authorization' ? [`authorization: Bearer ${FUZZ_CLIENT_KEY}`] : []),
  ];
  const head = Buffer.from(`${lines.join('\r\n')}\r\n${raw.name}: `, 'latin1');
  const request = Buffer.concat([head, raw.value, Buffer.from('\r\n\r\n', 'latin1'), body]);
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, REQUEST_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may answer and close before it has read all we sent: that is fine.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks)));
    });
    socket.write(request);
  });
}

function parseAnswer(bytes: Buffer): RawAnswer | null {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '')?.[1];
  if (!status) return null;
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = bytes.subarray(end + 4);
  if (headers.get('transfer-encoding') === 'chunked') body = dechunk(body);
  return { status: Number(status), headers, body: body.toString('utf8') };
}

function dechunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = Number.parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Runs a property, without shrinking (each run is a network round trip), and reports the first counterexample. */
export async function runProperty<Ts extends unknown[]>(
  name: string,
  property: fc.IAsyncPropertyWithHooks<Ts>,
  numRuns: number,
  seed: number,
  target: FuzzTarget | null,
): Promise<FuzzOutcome> {
  const details = await fc.check(property, { numRuns, seed, endOnFailure: true, timeout: REQUEST_TIMEOUT_MS * 2 });
  const alive = target === null || (await target.alive());
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const example = fc.stringify(details.counterexample).slice(0, 300);
    return { name, runs: details.numRuns, ok: false, detail: `${error.slice(0, 300)}; counterexample ${example} (seed ${seed}, path ${details.counterexamplePath ?? '-'})` };
  }
  if (!alive) return { name, runs: details.numRuns, ok: false, detail: 'the gateway stopped answering /healthz' };
  return { name, runs: details.numRuns, ok: true, detail: target ? 'gateway up after every run' : '' };
}
