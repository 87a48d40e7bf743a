/**
 * Secrets and hostile input: no configured secret ever shows up in logs,
 * /admin/status, /metrics or error bodies; /admin is guarded; requests that
 * could smuggle (CR/LF, conflicting framing, oversized headers) get a clean
 * OpenAI-shaped error and a closed connection.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/http/auth.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import { startTestGateway, testConfig, type TestGateway } from '../support/start-gateway.js';

const SECRETS = {
  PINROUTE_API_KEY: 'client-secret-7f3a9c2e41',
  PINROUTE_ADMIN_KEY: 'admin-secret-19be77d0c3',
  BACKEND_KEY: 'sk-backend-secret-5d8e2a',
};

let upstream: FakeUpstream;
let gateway: TestGateway;

beforeAll(async () => {
  upstream = await FakeUpstream.start();
  gateway = await startTestGateway(
    testConfig({
      server: { api_keys: ['${PINROUTE_API_KEY}'], admin_key: '${PINROUTE_ADMIN_KEY}' },
      backends: { hosted: { type: 'openai-compatible', base_url: upstream.url, api_key: '${BACKEND_KEY}', headers: { 'x-org': '${BACKEND_KEY}' } } },
      routes: { chat: [{ backend: 'hosted', model: 'm', revision: 'v1' }] },
    }),
    SECRETS,
  );
});

afterAll(async () => {
  await gateway.stop();
  await upstream.close();
});

function expectNoSecret(text: string): void {
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
}

/** Sends raw bytes and returns the raw response (for requests an HTTP client refuses to build). */
function rawExchange(bytes: string): Promise<string> {
  const { port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve(response);
    });
  });
}

describe('secrets', () => {
  it('never appear in logs, /admin/status, /metrics or error bodies', async () => {
    const client = gateway.client({ apiKey: SECRETS.PINROUTE_API_KEY });
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    upstream.script({ kind: 'status', status: 400, body: { error: { message: 'bad', type: 'invalid_request_error', param: null, code: null } } });
    await client.chat.completions.create({ model: 'chat', messages: [] }).catch(() => undefined);
    const unauthorized = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: '{}' });
    const status = await fetch(`${gateway.url}/admin/status`, { headers: { authorization: `Bearer ${SECRETS.PINROUTE_ADMIN_KEY}` } });
    expect(status.status).toBe(200);
    const metrics = await fetch(`${gateway.url}/metrics`);
    expectNoSecret(await unauthorized.text());
    expectNoSecret(await status.text());
    expectNoSecret(await metrics.text());
    expectNoSecret(gateway.logs.text());
    // ...while the backend did get its key and header.
    expect(upstream.completionRequests()[0]?.headers['authorization']).toBe(`Bearer ${SECRETS.BACKEND_KEY}`);
  });

  it('/admin needs the admin key: no key or the client key is 401', async () => {
    expect((await fetch(`${gateway.url}/admin/status`)).status).toBe(401);
    const withClientKey = await fetch(`${gateway.url}/admin/status`, { headers: { authorization: `Bearer ${SECRETS.PINROUTE_API_KEY}` } });
    expect(withClientKey.status).toBe(401);
    expect(((await withClientKey.json()) as { error: { code: string } }).error.code).toBe('invalid_admin_key');
  });

  it('without an admin key, /admin answers loopback clients only', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('10.0.0.7')).toBe(false);
    expect(isLoopback('::ffff:192.168.1.2')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});

describe('requests that could smuggle', () => {
  it.each([
    ['a bare CR inside a header value', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Evil: a\rb\r\nContent-Length: 2\r\n\r\n{}'],
    ['both Content-Length and Transfer-Encoding', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['an invalid header name', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
  ])('%s: 400 malformed_http, connection closed', async (_name, bytes) => {
    const hits = upstream.hits;
    const response = await rawExchange(bytes);
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toMatch(/"code":"malformed_http"/);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(upstream.hits).toBe(hits);
  });

  it('oversized headers: 431', async () => {
    const response = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
    expect(response).toMatch(/"code":"headers_too_large"/);
  });

  it('an x-request-id that is not a sane token is replaced, not echoed', async () => {
    const response = await fetch(`${gateway.url}/healthz`, { headers: { 'x-request-id': '<script>alert(1)</script>' } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describeWithRedis('the Redis password', () => {
  it('stays out of /admin/status and the logs', async () => {
    const redis = await RedisServer.start({ args: ['--requirepass', 'redis-pass-81c2f0'] });
    const local = await startTestGateway(
      testConfig({
        state: { redis_url: `redis://:redis-pass-81c2f0@127.0.0.1:${redis.port}` },
        backends: { hosted: { type: 'openai-compatible', base_url: upstream.url } },
        routes: { chat: [{ backend: 'hosted', model: 'm', revision: 'v1' }] },
      }),
    );
    try {
      const status = (await (await fetch(`${local.url}/admin/status`)).json()) as { state_store: { connected: boolean; location: string } };
      expect(status.state_store.connected).toBe(true);
      expect(status.state_store.location).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(local.logs.text()).not.toContain('redis-pass-81c2f0');
    } finally {
      await local.stop();
      await redis.stop();
    }
  });
});
