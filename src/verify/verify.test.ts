/**
 * Each backend type's revision check against the real body shapes of its
 * serving stack (test/fixtures/backends), served by a loopback server and read
 * through a real probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FakeUpstream, type ProbeAnswer } from '../../test/support/fake-upstream.js';
import { fixture } from '../../test/support/fixtures.js';
import { parseConfigText } from '../config/load.js';
import type { CompiledTarget } from '../config/table.js';
import { probeBackend, type BackendProbe } from '../health/probe.js';

const SHA = '0e9e39f249a16976918f6564b8830bc894c89659';
const OTHER_SHA = '5206a32e0bd3067aef1ce90f5528ade7d866253f';
const DIGEST = 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72';

let server: FakeUpstream;

beforeAll(async () => {
  server = await FakeUpstream.start();
});

afterAll(async () => {
  await server.close();
});

async function probe(
  type: string,
  target: { model: string; revision: string },
  answers: Record<string, ProbeAnswer>,
  backendExtra: object = {},
): Promise<{ probe: BackendProbe; target: CompiledTarget }> {
  server.reset();
  for (const [path, answer] of Object.entries(answers)) server.setProbe(path, answer);
  const config = {
    backends: { b: { type, base_url: server.url, ...backendExtra } },
    routes: { r: [{ backend: 'b', ...target }] },
  };
  const { table, problems } = parseConfigText(stringify(config), {});
  if (!table) throw new Error(problems.map((problem) => problem.message).join('; '));
  const compiled = table.routes.get('r')?.targets[0];
  const backend = table.backends.get('b');
  if (!compiled || !backend) throw new Error('no target');
  return { probe: await probeBackend(backend, [compiled]), target: compiled };
}

const ok = (body?: object): ProbeAnswer => (body === undefined ? { status: 200 } : { status: 200, body });

describe('tgi: /info model_sha', () => {
  it('verified when model_sha is the pin', async () => {
    const { probe: result, target } = await probe('tgi', { model: 'tgi', revision: SHA }, { '/health': ok(), '/info': ok(fixture('tgi-info.json')) });
    expect(result.up).toBe(true);
    expect(result.revisions.get(target.stateKey)).toMatchObject({ status: 'verified', observed: SHA });
  });

  it('mismatch when it is another commit', async () => {
    const { probe: result, target } = await probe('tgi', { model: 'tgi', revision: OTHER_SHA }, { '/health': ok(), '/info': ok(fixture('tgi-info.json')) });
    expect(result.revisions.get(target.stateKey)).toMatchObject({ status: 'mismatch', observed: SHA });
  });

  it.each(['tgi-info-local-path.json', 'tgi-info-v2.2-legacy.json'])('unverified, not a match, when model_sha is null (%s)', async (file) => {
    const info = fixture(file);
    const { probe: result, target } = await probe('tgi', { model: 'tgi', revision: SHA }, { '/health': ok(), '/info': ok({ ...info, model_sha: null }) });
    expect(result.revisions.get(target.stateKey)?.status).toBe('unverified');
  });

  it('down when /health answers 503', async () => {
    const { probe: result } = await probe('tgi', { model: 'tgi', revision: SHA }, { '/health': { status: 503, body: fixture('tgi-error-health-503.json') } });
    expect(result.up).toBe(false);
    expect(result.error).toMatch(/503/);
    expect(result.revisions.size).toBe(0);
  });
});

describe('vllm: /v1/models entry whose id is the model; pin in id or root', () => {
  it('verified by the name@sha served-model-name convention', async () => {
    const { probe: result, target } = await probe('vllm', { model: `llama-3.1-8b@${SHA}`, revision: SHA }, { '/health': ok(), '/v1/models': ok(fixture('vllm-models-local-snapshot.json')) });
    expect(result.revisions.get(target.stateKey)).toMatchObject({ status: 'verified', observed: SHA });
  });

  it('verified by a snapshots/<sha> root', async () => {
    const models = fixture('vllm-models-local-snapshot.json');
    models['data'][0].id = 'llama';
    const { probe: result, target } = await probe('vllm', { model: 'llama', revision: SHA }, { '/health': ok(), '/v1/models': ok(models) });
    expect(result.revisions.get(target.stateKey)?.status).toBe('verified');
  });

  it('mismatch when the root is a hub id without the pin', async () => {
    const { probe: result, target } = await probe('vllm', { model: 'meta-llama/Llama-3.1-8B-Instruct', revision: SHA }, { '/health': ok(), '/v1/models': ok(fixture('vllm-models.json')) });
    expect(result.revisions.get(target.stateKey)).toMatchObject({ status: 'mismatch', observed: 'meta-llama/Llama-3.1-8B-Instruct' });
  });

  it('mismatch when the model is not served at all', async () => {
    const { probe: result, target } = await probe('vllm', { model: `llama-3.1-8b@${OTHER_SHA}`, revision: OTHER_SHA }, { '/health': ok(), '/v1/models': ok(fixture('vllm-models-local-snapshot.json')) });
    expect(result.revisions.get(target.stateKey)?.status).toBe('mismatch');
    expect(result.revisions.get(target.stateKey)?.detail).toMatch(/no served model/);
  });
});

describe('ollama: /api/tags digest', () => {
  it.each([DIGEST, `sha256:${DIGEST}`])('verified with pin %s', async (pin) => {
    const { probe: result, target } = await probe('ollama', { model: 'llama3.2:latest', revision: pin }, { '/api/version': ok(fixture('ollama-version.json')), '/api/tags': ok(fixture('ollama-tags.json')) });
    expect(result.revisions.get(target.stateKey)?.status).toBe('verified');
  });

  it('mismatch when the tag was re-pulled to another digest', async () => {
    const { probe: result, target } = await probe('ollama', { model: 'deepseek-r1:latest', revision: `sha256:${DIGEST}` }, { '/api/version': ok(), '/api/tags': ok(fixture('ollama-tags.json')) });
    expect(result.revisions.get(target.stateKey)).toMatchObject({ status: 'mismatch', observed: 'sha256:0a8c266910232fd3291e71e5ba1e058cc5af9d411192cf88b6d30e92b6e73163' });
  });

  it('mismatch when the model is not pulled', async () => {
    const { probe: result, target } = await probe('ollama', { model: 'qwen2.5:7b', revision: DIGEST }, { '/api/version': ok(), '/api/tags': ok(fixture('ollama-tags.json')) });
    expect(result.revisions.get(target.stateKey)?.detail).toMatch(/not pulled/);
  });
});

describe('llamacpp: /props model_path', () => {
  it('verified when the path carries the pin', async () => {
    const props = { ...fixture('llamacpp-props.json'), model_path: `/models/${DIGEST}/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf` };
    const { probe: result, target } = await probe('llamacpp', { model: 'llama', revision: DIGEST }, { '/health': ok(fixture('llamacpp-health-ok.json')), '/props': ok(props) });
    expect(result.revisions.get(target.stateKey)?.status).toBe('verified');
  });

  it('mismatch otherwise', async () => {
    const { probe: result, target } = await probe('llamacpp', { model: 'llama', revision: DIGEST }, { '/health': ok(), '/props': ok(fixture('llamacpp-props.json')) });
    expect(result.revisions.get(target.stateKey)).toMatchObject({ status: 'mismatch', observed: '/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf' });
  });

  it('down while the model loads (503)', async () => {
    const { probe: result } = await probe('llamacpp', { model: 'llama', revision: DIGEST }, { '/health': { status: 503, body: fixture('llamacpp-health-loading-503.json') } });
    expect(result.up).toBe(false);
  });
});

describe('sglang: /server_info revision or model_path', () => {
  const serverInfo = (extra: object) => ok({ model_path: 'meta-llama/Llama-3.1-8B-Instruct', tokenizer_path: 'meta-llama/Llama-3.1-8B-Instruct', revision: null, version: '0.4.6', ...extra });

  it('verified by revision', async () => {
    const { probe: result, target } = await probe('sglang', { model: 'llama', revision: SHA }, { '/health': ok(), '/server_info': serverInfo({ revision: SHA }) });
    expect(result.revisions.get(target.stateKey)?.status).toBe('verified');
  });

  it('falls back to /get_server_info on older builds', async () => {
    const { probe: result, target } = await probe('sglang', { model: 'llama', revision: SHA }, { '/health': ok(), '/get_server_info': serverInfo({ model_path: `/hf/snapshots/${SHA}` }) });
    expect(result.revisions.get(target.stateKey)?.status).toBe('verified');
  });

  it('mismatch when neither carries the pin', async () => {
    const { probe: result, target } = await probe('sglang', { model: 'llama', revision: SHA }, { '/health': ok(), '/server_info': serverInfo({ revision: OTHER_SHA }) });
    expect(result.revisions.get(target.stateKey)).toMatchObject({ status: 'mismatch', observed: OTHER_SHA });
  });
});

describe('openai: existence only (the snapshot is checked on every answer)', () => {
  it('up and no revision verdict when the snapshot is listed', async () => {
    const { probe: result, target } = await probe('openai', { model: 'gpt-4o-2024-08-06', revision: 'gpt-4o-2024-08-06' }, { '/v1/models/gpt-4o-2024-08-06': ok({ id: 'gpt-4o-2024-08-06', object: 'model' }) }, { api_key: 'sk-test' });
    expect(result.up).toBe(true);
    expect(result.revisions.has(target.stateKey)).toBe(false);
  });

  it('down when the API does not list it', async () => {
    const { probe: result } = await probe('openai', { model: 'gpt-4o-2024-05-13', revision: 'gpt-4o-2024-05-13' }, { '/v1/models/gpt-4o-2024-05-13': { status: 404, body: fixture('openai-error-404-model-not-found.json') } }, { api_key: 'sk-test' });
    expect(result.up).toBe(false);
  });

  it('sends the backend key to the probe', async () => {
    await probe('openai', { model: 'gpt-4o-2024-08-06', revision: 'gpt-4o-2024-08-06' }, {}, { api_key: 'sk-probe-key' });
    expect(server.requests.at(-1)?.headers['authorization']).toBe('Bearer sk-probe-key');
  });
});

describe('a verify: block (openai-compatible, or overriding a type)', () => {
  it('reads a JSON pointer and compares with equals', async () => {
    const { probe: result, target } = await probe(
      'openai-compatible',
      { model: 'qwen', revision: 'build-42' },
      { '/v1/models': ok(), '/meta': ok({ models: { qwen: { build: 'build-42' } } }) },
      { verify: { path: '/meta', pointer: '/models/{model}/build', match: 'equals' } },
    );
    expect(result.revisions.get(target.stateKey)?.status).toBe('verified');
  });

  it('compares with contains, relative to base_url', async () => {
    const { probe: result, target } = await probe(
      'llamacpp',
      { model: 'llama', revision: DIGEST },
      { '/health': ok(), '/v1/models': ok(fixture('llamacpp-models.json')) },
      { verify: { path: 'models', pointer: '/data/0/id', match: 'contains' } },
    );
    expect(result.revisions.get(target.stateKey)?.status).toBe('mismatch');
  });

  it('without one, an openai-compatible backend is unverified', async () => {
    const { probe: result, target } = await probe('openai-compatible', { model: 'x', revision: 'v1' }, {});
    expect(result.revisions.get(target.stateKey)?.status).toBe('unverified');
  });
});
