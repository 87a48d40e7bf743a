/**
 * The HTTP contract around the proxy (SPEC §4): bad input gets an OpenAI-shaped
 * error and never reaches an upstream; the body is forwarded byte for byte
 * except `model`; credentials and hop-by-hop headers stay on our side; one log
 * line per request without prompt text or secrets.
 */
import { APIError } from 'openai';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestGateway, testConfig, type TestGateway } from '../support/start-gateway.js';

let upstream: FakeUpstream;
let gateway: TestGateway;
const CLIENT_KEY = 'client-key-0123456789';
const BACKEND_KEY = 'sk-backend-secret-abcdef';

beforeAll(async () => {
  upstream = await FakeUpstream.start();
  gateway = await startTestGateway(
    testConfig({
      server: { api_keys: ['${TEST_CLIENT_KEY}'], max_body_bytes: 4096, max_json_depth: 16 },
      backends: { vllm: { type: 'openai-compatible', base_url: upstream.url, api_key: '${TEST_BACKEND_KEY}' } },
      routes: {
        'llama-3.1-8b': [{ backend: 'vllm', model: 'meta-llama/Llama-3.1-8B-Instruct', revision: '0e9e39f249a16976918f6564b8830bc894c89659' }],
        'gpt-4o': [{ backend: 'vllm', model: 'gpt-4o-2024-08-06', revision: 'gpt-4o-2024-08-06' }],
      },
    }),
    { TEST_CLIENT_KEY: CLIENT_KEY, TEST_BACKEND_KEY: BACKEND_KEY },
  );
});

afterAll(async () => {
  await gateway.stop();
  await upstream.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(path, gateway.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { authorization: `Bearer ${CLIENT_KEY}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function errorOf(response: RawResponse): { message: string; type: string; param: string | null; code: string | null } {
  const parsed = JSON.parse(response.body) as { error: { message: string; type: string; param: string | null; code: string | null } };
  expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  return parsed.error;
}

describe('bad input gets a clear OpenAI-shaped error and reaches no upstream', () => {
  const hitsBefore = () => upstream.hits;

  it.each([
    ['malformed JSON', '{"model": "llama-3.1-8b",', 400, 'invalid_json'],
    ['an empty body', '', 400, 'invalid_json'],
    ['a JSON array', '[1, 2]', 400, 'invalid_request'],
    ['a JSON string', '"hello"', 400, 'invalid_request'],
    ['a missing model', '{"messages": []}', 400, 'invalid_request'],
    ['a non-string model', '{"model": 42}', 400, 'invalid_request'],
    ['an unknown route', '{"model": "gpt-5-turbo-ultra"}', 404, 'model_not_found'],
    ['nesting deeper than max_json_depth', `{"model": "llama-3.1-8b", "x": ${'['.repeat(40)}${']'.repeat(40)}}`, 400, 'invalid_request'],
  ])('%s', async (_name, body, status, code) => {
    const before = hitsBefore();
    const response = await raw('POST', '/v1/chat/completions', body, { 'content-type': 'application/json' });
    expect(response.status).toBe(status);
    expect(errorOf(response).code).toBe(code);
    expect(response.headers['x-request-id']).toBeTruthy();
    expect(response.headers['x-served-by-backend']).toBeUndefined();
    expect(upstream.hits).toBe(before);
  });

  it('unknown route: 404 model_not_found listing the routes, through the SDK', async () => {
    const error = await gateway.client({ apiKey: CLIENT_KEY }).chat.completions.create({ model: 'nope', messages: [] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(404);
    expect((error as APIError).code).toBe('model_not_found');
    expect((error as APIError).message).toContain('gpt-4o, llama-3.1-8b');
  });

  it('a declared oversized body: 413 before reading it', async () => {
    const response = await raw('POST', '/v1/chat/completions', JSON.stringify({ model: 'llama-3.1-8b', pad: 'x'.repeat(10_000) }));
    expect(response.status).toBe(413);
    expect(errorOf(response).code).toBe('body_too_large');
  });

  it('a chunked oversized body: 413 as soon as the limit is crossed', async () => {
    const response = await new Promise<RawResponse>((resolve, reject) => {
      const req = httpRequest(new URL('/v1/chat/completions', gateway.url), { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'transfer-encoding': 'chunked' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.write('{"model": "llama-3.1-8b", "pad": "');
      for (let index = 0; index < 10; index++) req.write('x'.repeat(1000));
      req.end('"}');
    });
    expect(response.status).toBe(413);
  });

  it('401 without a client key, and with a wrong one', async () => {
    for (const authorization of [undefined, 'Bearer wrong-key']) {
      const before = hitsBefore();
      const headers: Record<string, string> = { authorization: authorization ?? '' };
      const response = await raw('POST', '/v1/chat/completions', '{"model":"llama-3.1-8b"}', headers);
      expect(response.status).toBe(401);
      expect(errorOf(response).code).toBe('invalid_api_key');
      expect(upstream.hits).toBe(before);
    }
    const error = await gateway.client({ apiKey: 'wrong' }).models.list().catch((caught: unknown) => caught);
    expect((error as APIError).status).toBe(401);
  });

  it('an unknown path is a 404 in the OpenAI envelope', async () => {
    const response = await raw('GET', '/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(errorOf(response).code).toBe('not_found');
  });
});

describe('models', () => {
  it('lists the route names in OpenAI list format', async () => {
    const models = await gateway.client({ apiKey: CLIENT_KEY }).models.list();
    expect(models.data.map((model) => model.id)).toEqual(['gpt-4o', 'llama-3.1-8b']);
    expect(models.data[0]).toMatchObject({ object: 'model', owned_by: 'pinroute' });
  });

  it('retrieves one route, and 404s an unknown one', async () => {
    const client = gateway.client({ apiKey: CLIENT_KEY });
    expect((await client.models.retrieve('llama-3.1-8b')).id).toBe('llama-3.1-8b');
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });
});

describe('forwarding', () => {
  it('forwards the body byte for byte except model, with the backend key instead of the client key', async () => {
    const body = '{"model":"llama-3.1-8b","seed":12345678901234567890,"temperature":1.0,"messages":[{"role":"user","content":"say \\"model\\": x"}],"vendor_extension":{"keep":true}}';
    const response = await raw('POST', '/v1/chat/completions', body, {
      'content-type': 'application/json',
      connection: 'keep-alive',
      'openai-organization': 'org-client',
      'x-request-id': 'trace-abc-123',
    });
    expect(response.status).toBe(200);
    const received = upstream.completionRequests().at(-1);
    expect(received?.body).toBe(body.replace('"model":"llama-3.1-8b"', '"model":"meta-llama/Llama-3.1-8B-Instruct"'));
    expect(received?.headers['authorization']).toBe(`Bearer ${BACKEND_KEY}`);
    expect(received?.headers['openai-organization']).toBeUndefined();
    expect(received?.headers['x-request-id']).toBe('trace-abc-123');
    expect(response.headers['x-request-id']).toBe('trace-abc-123');
    expect(JSON.stringify(received?.headers)).not.toContain(CLIENT_KEY);
  });

  it('passes the upstream body through untouched: its model names who answered', async () => {
    upstream.servedModel = 'meta-llama/Llama-3.1-8B-Instruct';
    try {
      const { data, response } = await gateway.client({ apiKey: CLIENT_KEY }).chat.completions.create({ model: 'llama-3.1-8b', messages: [] }).withResponse();
      expect(data.model).toBe('meta-llama/Llama-3.1-8B-Instruct');
      expect(response.headers.get('x-served-by-model')).toBe('meta-llama/Llama-3.1-8B-Instruct');
      expect(response.headers.get('x-served-by-revision')).toBe('0e9e39f249a16976918f6564b8830bc894c89659');
      expect(response.headers.get('x-served-by-revision-status')).toBe('unverified');
      expect(response.headers.get('x-pinroute-route')).toBe('llama-3.1-8b');
    } finally {
      upstream.servedModel = undefined;
    }
  });

  it('serves /v1/completions and /v1/embeddings the same way', async () => {
    const client = gateway.client({ apiKey: CLIENT_KEY });
    const completion = await client.completions.create({ model: 'llama-3.1-8b', prompt: 'hi' }).withResponse();
    expect(completion.data.choices[0]?.text).toContain('fake upstream');
    expect(completion.response.headers.get('x-served-by-backend')).toBe('vllm');
    const embedding = await client.embeddings.create({ model: 'llama-3.1-8b', input: 'hi', encoding_format: 'float' }).withResponse();
    expect(embedding.data.data[0]?.embedding).toEqual([0.1, 0.2, 0.3]);
    expect(embedding.response.headers.get('x-served-by-backend')).toBe('vllm');
    expect(upstream.completionRequests().slice(-2).map((request) => request.path)).toEqual(['/v1/completions', '/v1/embeddings']);
  });

  it('logs one line per request, without prompt text or secrets', async () => {
    const before = gateway.logs.messages('request').length;
    await gateway.client({ apiKey: CLIENT_KEY }).chat.completions.create({
      model: 'llama-3.1-8b',
      messages: [{ role: 'user', content: 'PROMPT-TEXT-NEVER-LOGGED' }],
    });
    const lines = gateway.logs.messages('request').slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ route: 'llama-3.1-8b', backend: 'vllm', status: 200, attempts: 'vllm=200', outcome: 'ok' });
    expect(typeof lines[0]?.['durationMs']).toBe('number');
    expect(typeof lines[0]?.['requestId']).toBe('string');
    const everything = gateway.logs.text();
    expect(everything).not.toContain('PROMPT-TEXT-NEVER-LOGGED');
    expect(everything).not.toContain(CLIENT_KEY);
    expect(everything).not.toContain(BACKEND_KEY);
  });
});
