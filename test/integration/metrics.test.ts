/** SPEC §7 metrics: scraped before and after traffic, the series move with the right labels. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFakeUpstreams } from '../support/upstreams.js';
import { startTestGateway, testConfig, type TestGateway } from '../support/start-gateway.js';

const upstream = useFakeUpstreams('primary', 'secondary');

let gateway: TestGateway;
const messages = [{ role: 'user' as const, content: 'hi' }];

beforeAll(async () => {
  gateway = await startTestGateway(
    testConfig({
      defaults: { breaker: { error_threshold_pct: 50, min_requests: 2, window_ms: 10_000, reset_ms: 60_000 } },
      backends: {
        primary: { type: 'openai-compatible', base_url: upstream.primary.url },
        secondary: { type: 'openai-compatible', base_url: upstream.secondary.url },
      },
      routes: { chat: [{ backend: 'primary', model: 'p', revision: 'v1' }, { backend: 'secondary', model: 's', revision: 'v1' }] },
    }),
  );
});

afterAll(async () => {
  await gateway.stop();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${gateway.url}/metrics`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('/metrics', () => {
  it('counts requests, failovers, durations and breaker state with bounded labels', async () => {
    const before = await scrape();
    await gateway.client().chat.completions.create({ model: 'chat', messages });
    upstream.primary.setDefault({ kind: 'status', status: 503 });
    await gateway.client().chat.completions.create({ model: 'chat', messages });
    await gateway.client().chat.completions.create({ model: 'chat', messages });
    await gateway.client().chat.completions.create({ model: 'not-a-route', messages }).catch(() => undefined);
    const after = await scrape();

    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('pinroute_requests_total{route="chat",backend="primary",status="200"}')).toBe(1);
    expect(delta('pinroute_requests_total{route="chat",backend="secondary",status="200"}')).toBe(2);
    expect(delta('pinroute_failovers_total{route="chat",backend="primary",reason="503"}')).toBe(2);
    expect(delta('pinroute_request_duration_seconds_count{route="chat"}')).toBe(3);
    expect(delta('pinroute_upstream_ttfb_seconds_count{route="chat",backend="secondary"}')).toBe(2);
    // An unknown route is counted without its name: labels never come from request input.
    expect(delta('pinroute_requests_total{route="(none)",backend="(none)",status="404"}')).toBe(1);
    expect(after).not.toContain('not-a-route');
    expect(value(after, 'pinroute_breaker_state{backend="primary",model="p"}')).toBe(2);
    expect(value(after, 'pinroute_target_up{route="chat",backend="primary"}')).toBe(0);
    expect(value(after, 'pinroute_target_up{route="chat",backend="secondary"}')).toBe(1);
    expect(after).toMatch(/^pinroute_process_resident_memory_bytes \d+/m);
    expect(value(after, 'pinroute_state_store_connected{kind="memory"}')).toBe(1);
  });
});
