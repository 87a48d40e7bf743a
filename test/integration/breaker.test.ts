/**
 * SPEC §5 breaker cycle with short timings: closed → open after the error
 * threshold → half-open after reset_ms → one trial → closed (or open again).
 * While open, the primary's hit counter must not rise.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '../support/wait.js';
import { useFakeUpstreams } from '../support/upstreams.js';
import { startTestGateway, testConfig, type TestGateway } from '../support/start-gateway.js';

const upstream = useFakeUpstreams('primary', 'secondary');

let gateway: TestGateway;
const RESET_MS = 1500;
const messages = [{ role: 'user' as const, content: 'hi' }];

beforeEach(async () => {
  gateway = await startTestGateway(
    testConfig({
      defaults: { breaker: { error_threshold_pct: 50, min_requests: 3, window_ms: 10_000, reset_ms: RESET_MS } },
      backends: {
        primary: { type: 'openai-compatible', base_url: upstream.primary.url },
        secondary: { type: 'openai-compatible', base_url: upstream.secondary.url },
      },
      routes: {
        chat: [
          { backend: 'primary', model: 'p', revision: 'rev-a' },
          { backend: 'secondary', model: 's', revision: 'rev-b' },
        ],
      },
    }),
  );
});

afterEach(async () => {
  await gateway.stop();
});

async function attempts(): Promise<string | null> {
  const { response } = await gateway.client().chat.completions.create({ model: 'chat', messages }).withResponse();
  return response.headers.get('x-pinroute-attempts');
}

async function status(): Promise<{ breaker: string; usable: boolean }> {
  const response = await fetch(`${gateway.url}/admin/status`);
  const body = (await response.json()) as { routes: { targets: { backend: string; breaker: string; usable: boolean }[] }[] };
  const target = body.routes[0]?.targets.find((candidate) => candidate.backend === 'primary');
  return { breaker: target?.breaker ?? 'missing', usable: target?.usable ?? false };
}

describe('circuit breaker', () => {
  it('opens after the error threshold, skips the target while open, then closes after a good trial', async () => {
    upstream.primary.setDefault({ kind: 'status', status: 500 });
    for (let index = 0; index < 3; index++) expect(await attempts()).toBe('primary=500, secondary=200');
    expect(await status()).toEqual({ breaker: 'open', usable: false });

    for (let index = 0; index < 5; index++) expect(await attempts()).toBe('primary=breaker_open, secondary=200');
    expect(upstream.primary.hits).toBe(3);

    upstream.primary.setDefault({ kind: 'ok' });
    await sleep(RESET_MS + 150);
    expect(await attempts()).toBe('primary=200');
    expect(upstream.primary.hits).toBe(4);
    expect(await status()).toEqual({ breaker: 'closed', usable: true });
    expect(await attempts()).toBe('primary=200');
  });

  it('re-opens when the half-open trial fails, and allows only one trial', async () => {
    upstream.primary.setDefault({ kind: 'status', status: 503 });
    for (let index = 0; index < 3; index++) await attempts();
    expect(upstream.primary.hits).toBe(3);
    await sleep(RESET_MS + 150);
    // Half-open: concurrent requests, but only one may be the trial.
    upstream.primary.setDefault({ kind: 'ok', delayMs: 150 });
    upstream.primary.script({ kind: 'status', status: 503 });
    const results = await Promise.all([attempts(), attempts(), attempts()]);
    expect(upstream.primary.hits).toBe(4);
    expect(results.filter((value) => value === 'primary=503, secondary=200')).toHaveLength(1);
    expect(results.filter((value) => value === 'primary=breaker_open, secondary=200')).toHaveLength(2);
    expect((await status()).breaker).toBe('open');
    expect(await attempts()).toBe('primary=breaker_open, secondary=200');
    expect(upstream.primary.hits).toBe(4);
  });

  it('is never tripped by client errors', async () => {
    upstream.primary.setDefault({ kind: 'status', status: 400, body: { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } } });
    for (let index = 0; index < 8; index++) {
      await expect(gateway.client().chat.completions.create({ model: 'chat', messages })).rejects.toMatchObject({ status: 400 });
    }
    expect(upstream.primary.hits).toBe(8);
    expect(await status()).toEqual({ breaker: 'closed', usable: true });
  });
});
