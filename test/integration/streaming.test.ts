/**
 * SPEC §4 streaming: one commit point (upstream 2xx and its first event). Before
 * it, every failure still fails over; after it, the stream never switches target
 * and a failure ends it with an SSE error event, never a hang or a clean-looking
 * truncation.
 */
import { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useFakeUpstreams } from '../support/upstreams.js';
import { waitFor } from '../support/wait.js';
import { startTestGateway, testConfig, type TestGateway } from '../support/start-gateway.js';

const upstream = useFakeUpstreams('primary', 'secondary');

let gateway: TestGateway;
const messages = [{ role: 'user' as const, content: 'hi' }];

beforeEach(async () => {
  gateway = await startTestGateway(
    testConfig({
      defaults: { timeouts: { connect_ms: 1000, first_byte_ms: 400, idle_ms: 400, total_ms: 10_000 } },
      backends: {
        primary: { type: 'openai-compatible', base_url: upstream.primary.url },
        secondary: { type: 'openai-compatible', base_url: upstream.secondary.url },
      },
      routes: {
        chat: [
          { backend: 'primary', model: 'primary-model', revision: 'rev-a' },
          { backend: 'secondary', model: 'secondary-model', revision: 'rev-b' },
        ],
      },
    }),
  );
});

afterEach(async () => {
  await gateway.stop();
});

async function collect(headers?: Record<string, string>) {
  const { data: stream, response } = await gateway
    .client(headers ? { headers } : {})
    .chat.completions.create({ model: 'chat', messages, stream: true })
    .withResponse();
  const parts: string[] = [];
  const models = new Set<string>();
  let error: unknown = null;
  try {
    for await (const chunk of stream) {
      models.add(chunk.model);
      parts.push(chunk.choices[0]?.delta.content ?? '');
    }
  } catch (caught) {
    error = caught;
  }
  return { text: parts.join(''), models, headers: response.headers, error };
}

describe('before the commit point, a stream fails over', () => {
  it('passes a healthy stream through chunk by chunk with served-by headers', async () => {
    upstream.primary.script({ kind: 'stream', chunks: 4 });
    const result = await collect();
    expect(result.error).toBeNull();
    expect(result.text).toBe('tok0 tok1 tok2 tok3');
    expect(result.models).toEqual(new Set(['primary-model']));
    expect(result.headers.get('x-served-by-backend')).toBe('primary');
    expect(result.headers.get('x-served-by-model')).toBe('primary-model');
    expect(result.headers.get('x-served-by-revision')).toBe('rev-a');
    expect(result.headers.get('x-pinroute-attempts')).toBe('primary=200');
    expect(result.headers.get('content-type')).toContain('text/event-stream');
  });

  it('ends a stream that arrived whole, [DONE] and end included, in one write', async () => {
    upstream.primary.script({ kind: 'stream', chunks: 20, oneWrite: true });
    const result = await collect();
    expect(result.error).toBeNull();
    expect(result.text.split(' ')).toHaveLength(20);
    // Ended by the upstream's end, not cut by the idle timeout after [DONE] had gone out.
    await waitFor(() => gateway.logs.messages('request').length === 1, 3000, 'request logged');
    expect(gateway.logs.messages('request')[0]).toMatchObject({ outcome: 'ok', status: 200 });
  });

  it('on a slow first token (first_byte_ms)', async () => {
    upstream.primary.script({ kind: 'stream', firstChunkDelayMs: 1500 });
    const result = await collect();
    expect(result.error).toBeNull();
    expect(result.headers.get('x-pinroute-attempts')).toBe('primary=timeout, secondary=200');
    expect(result.models).toEqual(new Set(['secondary-model']));
  });

  it('on a reset after the headers, before the first event', async () => {
    upstream.primary.script({ kind: 'stream', dropAfter: 0 });
    const result = await collect();
    expect(result.error).toBeNull();
    expect(result.headers.get('x-pinroute-attempts')).toBe('primary=stream_error, secondary=200');
  });

  it('on an in-band error in the first event', async () => {
    upstream.primary.script({ kind: 'stream', inBandErrorFirst: true });
    const result = await collect();
    expect(result.error).toBeNull();
    expect(result.headers.get('x-pinroute-attempts')).toBe('primary=stream_error, secondary=200');
    expect(upstream.secondary.hits).toBe(1);
  });

  it('on a malformed first event', async () => {
    upstream.primary.script({ kind: 'stream', malformedFirst: true });
    const result = await collect();
    expect(result.error).toBeNull();
    expect(result.headers.get('x-pinroute-attempts')).toBe('primary=stream_error, secondary=200');
  });
});

describe('after the commit point, a stream never switches target', () => {
  it('ends a stream cut mid-answer with an SSE error naming backend and revision', async () => {
    upstream.primary.script({ kind: 'stream', chunks: 5, dropAfter: 2, intervalMs: 20 });
    const result = await collect();
    expect(result.text).toBe('tok0 tok1');
    expect(result.error).toBeInstanceOf(APIError);
    expect(String((result.error as APIError).message)).toMatch(/backend "primary".*revision rev-a/);
    expect(upstream.secondary.hits).toBe(0);
  });

  it('ends a stalled stream after idle_ms with an SSE error', async () => {
    upstream.primary.script({ kind: 'stream', chunks: 5, stallAfter: 2 });
    const started = Date.now();
    const result = await collect();
    expect(result.text).toBe('tok0 tok1');
    expect(result.error).toBeInstanceOf(APIError);
    expect(String((result.error as APIError).message)).toMatch(/stalled/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(upstream.secondary.hits).toBe(0);
  });

  it('flags a stream that ends without [DONE] instead of letting it look complete', async () => {
    upstream.primary.script({ kind: 'stream', chunks: 3, omitDone: true });
    const result = await collect();
    expect(result.text).toBe('tok0 tok1 tok2');
    expect(result.error).toBeInstanceOf(APIError);
    expect(String((result.error as APIError).message)).toMatch(/without data: \[DONE\]/);
  });

  it('does not buffer: the first event reaches the client before the upstream sends the last', async () => {
    upstream.primary.script({ kind: 'stream', chunks: 6, intervalMs: 150 });
    const { data: stream } = await gateway.client().chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
    let firstAt = 0;
    let count = 0;
    const started = Date.now();
    for await (const chunk of stream) {
      if (count++ === 0) firstAt = Date.now() - started;
      expect(chunk.model).toBe('primary-model');
    }
    const totalAt = Date.now() - started;
    expect(count).toBe(6);
    // The upstream paces 6 events 150 ms apart; a buffering gateway would deliver them all at the end.
    expect(totalAt - firstAt).toBeGreaterThanOrEqual(600);
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    upstream.primary.script({ kind: 'stream', chunks: 50, intervalMs: 50 });
    const controller = new AbortController();
    const stream = await gateway.client().chat.completions.create({ model: 'chat', messages, stream: true }, { signal: controller.signal });
    let seen = 0;
    try {
      for await (const _chunk of stream) {
        if (++seen === 2) controller.abort();
      }
    } catch {
      // aborted by us
    }
    await waitFor(() => upstream.primary.abortedStreams === 1);
    await waitFor(() => gateway.logs.messages('request').length === 1);
    const line = gateway.logs.messages('request')[0];
    expect(line?.['outcome']).toBe('client_gone');
    expect(seen).toBeLessThan(50);
  });
});
