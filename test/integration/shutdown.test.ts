/** Graceful shutdown: SIGTERM mid-stream lets the stream finish, refuses new connections, exits 0. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { testConfig, writeConfig } from '../support/start-gateway.js';
import { waitFor } from '../support/wait.js';

let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await FakeUpstream.start();
});

afterAll(async () => {
  await upstream.close();
});

describe('SIGTERM', () => {
  it('drains: the in-flight stream completes, /readyz and new connections stop, exit 0 within the grace period', async () => {
    const file = await writeConfig(
      testConfig({
        server: { shutdown_grace_ms: 8000 },
        backends: { local: { type: 'openai-compatible', base_url: upstream.url } },
        routes: { chat: [{ backend: 'local', model: 'm', revision: 'v1' }] },
      }),
    );
    const gateway = await GatewayProcess.start(file);
    upstream.script({ kind: 'stream', chunks: 20, intervalMs: 100 });
    const stream = await gateway.client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const chunks: string[] = [];
    let signalled = 0;
    for await (const chunk of stream) {
      chunks.push(chunk.choices[0]?.delta.content ?? '');
      if (chunks.length === 3) {
        gateway.signal('SIGTERM');
        signalled = Date.now();
        await waitFor(async () => !(await gateway.ready()), 3000, 'not ready or refusing');
      }
    }
    expect(chunks).toHaveLength(20);
    const code = await gateway.waitForExit();
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(8000);
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
  });

  it('cuts what is still running when the grace period is over, and still exits 0', async () => {
    const file = await writeConfig(
      testConfig({
        server: { shutdown_grace_ms: 500 },
        backends: { local: { type: 'openai-compatible', base_url: upstream.url } },
        routes: { chat: [{ backend: 'local', model: 'm', revision: 'v1' }] },
      }),
    );
    const gateway = await GatewayProcess.start(file);
    upstream.script({ kind: 'stream', chunks: 100, intervalMs: 100 });
    const stream = await gateway.client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let seen = 0;
    const started = Date.now();
    await (async () => {
      for await (const _chunk of stream) {
        if (++seen === 2) gateway.signal('SIGTERM');
      }
    })().catch(() => undefined);
    expect(seen).toBeLessThan(100);
    expect(await gateway.waitForExit()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
