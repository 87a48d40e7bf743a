/**
 * SPEC §3 end to end: probes read each target's revision and health, routing
 * follows them (skip / serve / fail), the served-by headers report the real
 * state, and a revision that changes while the gateway runs is picked up within
 * one probe interval. Also `pinroute verify` as CI would run it.
 */
import { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { fixture } from '../support/fixtures.js';
import { startTestGateway, testConfig, writeConfig, type TestGateway } from '../support/start-gateway.js';
import { useFakeUpstreams } from '../support/upstreams.js';
import { waitFor } from '../support/wait.js';

const upstream = useFakeUpstreams('tgi', 'fallback');

const SHA = '0e9e39f249a16976918f6564b8830bc894c89659';
const OTHER_SHA = '5206a32e0bd3067aef1ce90f5528ade7d866253f';
const PROBE_MS = 200;
const messages = [{ role: 'user' as const, content: 'hi' }];

let gateway: TestGateway | null = null;

afterEach(async () => {
  await gateway?.stop();
  gateway = null;
});

function serveInfo(sha: string | null): void {
  upstream.tgi.setProbe('/health', { status: 200 });
  upstream.tgi.setProbe('/info', { status: 200, body: { ...fixture('tgi-info.json'), model_sha: sha } });
}

async function start(policy: 'skip' | 'serve' | 'fail'): Promise<TestGateway> {
  gateway = await startTestGateway(
    testConfig({
      defaults: { on_revision_mismatch: policy, probe: { interval_ms: PROBE_MS, timeout_ms: 500 } },
      backends: {
        tgi: { type: 'tgi', base_url: upstream.tgi.url },
        fallback: { type: 'openai-compatible', base_url: upstream.fallback.url },
      },
      routes: { llama: [{ backend: 'tgi', model: 'tgi', revision: SHA }, { backend: 'fallback', model: 'llama-local', revision: 'v1' }] },
    }),
  );
  await waitFor(() => upstream.tgi.probeHits('/info') > 0 && upstream.tgi.probeHits('/health') > 0, 5000, 'first probe');
  await new Promise((resolve) => setTimeout(resolve, 20));
  return gateway;
}

async function ask(local: TestGateway) {
  const { response } = await local.client().chat.completions.create({ model: 'llama', messages }).withResponse();
  return {
    backend: response.headers.get('x-served-by-backend'),
    revision: response.headers.get('x-served-by-revision'),
    status: response.headers.get('x-served-by-revision-status'),
    attempts: response.headers.get('x-pinroute-attempts'),
  };
}

describe('routing follows the probed revision', () => {
  it('verified: served, with status verified', async () => {
    serveInfo(SHA);
    const local = await start('skip');
    expect(await ask(local)).toEqual({ backend: 'tgi', revision: SHA, status: 'verified', attempts: 'tgi=200' });
  });

  it('skip: a mismatched target is skipped without a request', async () => {
    serveInfo(OTHER_SHA);
    const local = await start('skip');
    expect(await ask(local)).toMatchObject({ backend: 'fallback', attempts: 'tgi=revision_mismatch, fallback=200' });
    expect(upstream.tgi.hits).toBe(0);
  });

  it('serve: served, flagged, naming the revision that really answered', async () => {
    serveInfo(OTHER_SHA);
    const local = await start('serve');
    expect(await ask(local)).toEqual({ backend: 'tgi', revision: OTHER_SHA, status: 'mismatch', attempts: 'tgi=200' });
  });

  it('fail: 502 revision_mismatch without a request', async () => {
    serveInfo(OTHER_SHA);
    const local = await start('fail');
    const error = (await local.client().chat.completions.create({ model: 'llama', messages }).catch((caught: unknown) => caught)) as APIError;
    expect(error.status).toBe(502);
    expect(error.code).toBe('revision_mismatch');
    expect(upstream.tgi.hits + upstream.fallback.hits).toBe(0);
  });

  it('unverifiable (model_sha null): served as unverified, not as a match', async () => {
    serveInfo(null);
    const local = await start('skip');
    expect(await ask(local)).toEqual({ backend: 'tgi', revision: SHA, status: 'unverified', attempts: 'tgi=200' });
  });

  it('a revision that changes under the gateway is picked up within one interval, logged and counted', async () => {
    serveInfo(SHA);
    const local = await start('skip');
    expect((await ask(local)).status).toBe('verified');
    serveInfo(OTHER_SHA);
    const changedAt = Date.now();
    await waitFor(async () => (await ask(local)).backend === 'fallback', 5000, 'routing follows the new revision');
    expect(Date.now() - changedAt).toBeLessThan(PROBE_MS * 2 + 500);
    const change = local.logs.messages('observed revision changed')[0];
    expect(change).toMatchObject({ target: 'tgi/tgi', previous: SHA, observed: OTHER_SHA, status: 'mismatch' });
    const metrics = await (await fetch(`${local.url}/metrics`)).text();
    expect(metrics).toMatch(/pinroute_revision_changes_total\{backend="tgi",model="tgi"\} 1/);
    // ...and when the mirror is re-synced back, routing returns.
    serveInfo(SHA);
    await waitFor(async () => (await ask(local)).backend === 'tgi', 5000, 'routing returns');
  });
});

describe('routing follows probed health', () => {
  it('a backend whose probe fails is skipped without a request, and comes back', async () => {
    serveInfo(SHA);
    const local = await start('skip');
    upstream.tgi.setProbe('/health', { status: 503, body: fixture('tgi-error-health-503.json') });
    await waitFor(async () => (await ask(local)).attempts === 'tgi=down, fallback=200', 5000, 'marked down');
    const hits = upstream.tgi.hits;
    await ask(local);
    expect(upstream.tgi.hits).toBe(hits);
    upstream.tgi.setProbe('/health', { status: 200 });
    await waitFor(async () => (await ask(local)).attempts === 'tgi=200', 5000, 'back up');
  });

  it('/admin/status shows health and pinned vs observed revision', async () => {
    serveInfo(OTHER_SHA);
    const local = await start('skip');
    const status = (await (await fetch(`${local.url}/admin/status`)).json()) as {
      routes: { targets: { backend: string; health: { up: boolean }; revision: { pinned: string; observed: string; status: string }; skip_reason: string }[] }[];
    };
    const target = status.routes[0]?.targets[0];
    expect(target).toMatchObject({ backend: 'tgi', health: { up: true }, revision: { pinned: SHA, observed: OTHER_SHA, status: 'mismatch' }, skip_reason: 'revision_mismatch' });
  });
});

describe('pinroute verify', () => {
  async function configFile(): Promise<string> {
    return writeConfig({
      backends: {
        tgi: { type: 'tgi', base_url: upstream.tgi.url },
        local: { type: 'ollama', base_url: upstream.fallback.url },
      },
      routes: {
        llama: [
          { backend: 'tgi', model: 'tgi', revision: SHA },
          { backend: 'local', model: 'llama3.2:latest', revision: `sha256:${fixture('ollama-tags.json')['models'][0].digest}` },
        ],
      },
    });
  }

  it('prints pin vs observed per target and exits 0 when every pin holds', async () => {
    serveInfo(SHA);
    upstream.fallback.setProbe('/api/tags', { status: 200, body: fixture('ollama-tags.json') });
    const result = await runCli(['verify', '--config', await configFile()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/llama\s+0\s+tgi\s+tgi\s+tgi\s+0e9e39f2.*verified/);
    expect(result.stdout).toMatch(/llama\s+1\s+local\s+ollama.*verified/);
    expect(result.stdout).toMatch(/all pins hold/);
    expect(upstream.tgi.hits + upstream.fallback.hits).toBe(0);
  });

  it('exits 1 on a mismatch or an unreachable backend; --json for machines', async () => {
    serveInfo(OTHER_SHA);
    upstream.fallback.setProbe('/api/version', { status: 503 });
    const result = await runCli(['verify', '--json', '--config', await configFile()]);
    expect(result.code).toBe(1);
    const rows = JSON.parse(result.stdout) as { backend: string; status: string; observed: string | null }[];
    expect(rows).toEqual([
      expect.objectContaining({ backend: 'tgi', status: 'mismatch', observed: OTHER_SHA }),
      expect.objectContaining({ backend: 'local', status: 'unreachable' }),
    ]);
  });
});
