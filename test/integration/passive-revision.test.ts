/**
 * SPEC §3 passive check: openai answers must name the pinned dated snapshot,
 * vLLM answers the pinned served name; a mismatch is handled per
 * on_revision_mismatch (skip → next target, serve → flagged, fail → 502).
 */
import { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { useFakeUpstreams } from '../support/upstreams.js';
import { startTestGateway, testConfig, type TestGateway } from '../support/start-gateway.js';

const upstream = useFakeUpstreams('hosted', 'mirror', 'fallback');

const PIN = 'gpt-4o-2024-08-06';
const DRIFTED = 'gpt-4o-2024-11-20';
const VLLM_MODEL = 'llama-3.1-8b@0e9e39f249a16976918f6564b8830bc894c89659';
const messages = [{ role: 'user' as const, content: 'hi' }];

let gateway: TestGateway | null = null;

afterEach(async () => {
  await gateway?.stop();
  gateway = null;
});

async function start(policy: 'skip' | 'serve' | 'fail'): Promise<TestGateway> {
  gateway = await startTestGateway(
    testConfig({
      defaults: { on_revision_mismatch: policy },
      backends: {
        hosted: { type: 'openai', base_url: upstream.hosted.url, api_key: 'sk-test' },
        mirror: { type: 'vllm', base_url: upstream.mirror.url },
        fallback: { type: 'openai-compatible', base_url: upstream.fallback.url },
      },
      routes: {
        'gpt-4o': [
          { backend: 'hosted', model: PIN, revision: PIN },
          { backend: 'fallback', model: 'gpt-4o-local', revision: 'v1' },
        ],
        llama: [
          { backend: 'mirror', model: VLLM_MODEL, revision: '0e9e39f249a16976918f6564b8830bc894c89659' },
          { backend: 'fallback', model: 'llama-local', revision: 'v1' },
        ],
      },
    }),
  );
  return gateway;
}

describe('openai: the response model must be the pinned snapshot', () => {
  it('verified when it is', async () => {
    const local = await start('skip');
    upstream.hosted.servedModel = PIN;
    const { data, response } = await local.client().chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    expect(data.model).toBe(PIN);
    expect(response.headers.get('x-served-by-revision-status')).toBe('verified');
    expect(response.headers.get('x-served-by-revision')).toBe(PIN);
    upstream.hosted.servedModel = undefined;
  });

  it('skip: a drifted snapshot is not served; the next target is, and the target stays skipped', async () => {
    const local = await start('skip');
    upstream.hosted.servedModel = DRIFTED;
    const first = await local.client().chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    expect(first.response.headers.get('x-pinroute-attempts')).toBe('hosted=revision_mismatch, fallback=200');
    expect(first.response.headers.get('x-served-by-backend')).toBe('fallback');
    const second = await local.client().chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    expect(second.response.headers.get('x-pinroute-attempts')).toBe('hosted=revision_mismatch, fallback=200');
    expect(upstream.hosted.hits).toBe(1);
    upstream.hosted.servedModel = undefined;
  });

  it('serve: served, flagged mismatch, with the revision that really answered', async () => {
    const local = await start('serve');
    upstream.hosted.servedModel = DRIFTED;
    const { data, response } = await local.client().chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    expect(data.model).toBe(DRIFTED);
    expect(response.headers.get('x-served-by-revision-status')).toBe('mismatch');
    expect(response.headers.get('x-served-by-revision')).toBe(DRIFTED);
    expect(upstream.fallback.hits).toBe(0);
    upstream.hosted.servedModel = undefined;
  });

  it('fail: 502 revision_mismatch', async () => {
    const local = await start('fail');
    upstream.hosted.servedModel = DRIFTED;
    const error = (await local.client().chat.completions.create({ model: 'gpt-4o', messages }).catch((caught: unknown) => caught)) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('revision_mismatch');
    expect(error.message).toContain(DRIFTED);
    expect(error.headers?.get('x-served-by-revision-status')).toBe('mismatch');
    expect(upstream.fallback.hits).toBe(0);
    upstream.hosted.servedModel = undefined;
  });

  it('checks the first chunk of a stream too', async () => {
    const local = await start('skip');
    upstream.hosted.servedModel = DRIFTED;
    const { data: stream, response } = await local.client().chat.completions.create({ model: 'gpt-4o', messages, stream: true }).withResponse();
    const models = new Set<string>();
    for await (const chunk of stream) models.add(chunk.model);
    expect(models).toEqual(new Set(['gpt-4o-local']));
    expect(response.headers.get('x-pinroute-attempts')).toBe('hosted=revision_mismatch, fallback=200');
    upstream.hosted.servedModel = undefined;
  });
});

describe('vllm: the response model must be the pinned served name', () => {
  it('verified when the served name carries the pin', async () => {
    upstream.mirror.servedModel = VLLM_MODEL;
    const local = await start('skip');
    const { response } = await local.client().chat.completions.create({ model: 'llama', messages }).withResponse();
    expect(response.headers.get('x-served-by-revision-status')).toBe('verified');
    upstream.mirror.servedModel = undefined;
  });

  it('mismatch when an answer names another snapshot than the probe saw', async () => {
    const drifted = 'llama-3.1-8b@5206a32e0bd3067aef1ce90f5528ade7d866253f';
    upstream.mirror.servedModel = VLLM_MODEL;
    const local = await start('skip');
    upstream.mirror.script({ kind: 'ok', model: drifted });
    const { response } = await local.client().chat.completions.create({ model: 'llama', messages }).withResponse();
    expect(response.headers.get('x-pinroute-attempts')).toBe('mirror=revision_mismatch, fallback=200');
    expect(upstream.mirror.hits).toBe(1);
    const status = (await (await fetch(`${local.url}/admin/status`)).json()) as {
      routes: { name: string; targets: { backend: string; revision: { status: string; observed: string } }[] }[];
    };
    const target = status.routes.find((route) => route.name === 'llama')?.targets[0];
    expect(target?.revision).toMatchObject({ status: 'mismatch', observed: drifted });
    upstream.mirror.servedModel = undefined;
  });

});
