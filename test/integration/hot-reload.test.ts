/**
 * SPEC §6: editing routes.config.yaml takes effect without a restart and without
 * failing a request; an invalid edit is rejected, shown and counted, and the old
 * table keeps serving; SIGHUP does the same.
 */
import { rename, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayProcess } from '../support/gateway-process.js';
import { useFakeUpstreams } from '../support/upstreams.js';
import { startTestGateway, testConfig, writeConfig, type TestGateway } from '../support/start-gateway.js';
import { sleep, waitFor } from '../support/wait.js';

const upstream = useFakeUpstreams('first', 'second');

const messages = [{ role: 'user' as const, content: 'hi' }];
let gateway: TestGateway | null = null;

afterEach(async () => {
  await gateway?.stop();
  gateway = null;
});

function config(order: ('first' | 'second')[], extra: object = {}): object {
  return testConfig({
    backends: {
      first: { type: 'openai-compatible', base_url: upstream.first.url },
      second: { type: 'openai-compatible', base_url: upstream.second.url },
    },
    routes: { chat: order.map((backend) => ({ backend, model: `${backend}-model`, revision: 'v1' })), ...extra },
  });
}

async function servedBy(local: { client(): import('openai').OpenAI }): Promise<string | null> {
  const { response } = await local.client().chat.completions.create({ model: 'chat', messages }).withResponse();
  return response.headers.get('x-served-by-backend');
}

interface StatusBody {
  config: { last_reload: { result: string; problems: string[] } | null };
  routes: { name: string; targets: { backend: string; breaker: string; counters: { attempts: number } }[] }[];
}

describe('hot reload', () => {
  it('reordering targets switches served-by within seconds while traffic runs, with zero failed requests', async () => {
    gateway = await startTestGateway(config(['first', 'second']));
    const local = gateway;
    let failures = 0;
    let sent = 0;
    let switchedAt: number | null = null;
    let editedAt = 0;
    const traffic = (async () => {
      const stopAt = Date.now() + 6000;
      while (Date.now() < stopAt && sent < 3000) {
        try {
          const backend = await servedBy(local);
          if (editedAt > 0 && backend === 'second' && switchedAt === null) switchedAt = Date.now();
          if (switchedAt !== null && Date.now() - switchedAt > 500) break;
        } catch {
          failures++;
        }
        sent++;
      }
    })();
    await sleep(500);
    editedAt = Date.now();
    await writeFile(local.configFile, stringify(config(['second', 'first'])));
    await traffic;
    expect(failures).toBe(0);
    expect(switchedAt).not.toBeNull();
    expect((switchedAt ?? Infinity) - editedAt).toBeLessThan(3000);
    expect(sent).toBeGreaterThan(10);
    expect(local.logs.messages('config reloaded')).toHaveLength(1);
  });

  it('follows editors that save by writing a new file and renaming it over the old one', async () => {
    gateway = await startTestGateway(config(['first', 'second']));
    const temporary = `${gateway.configFile}.swp`;
    await writeFile(temporary, stringify(config(['second', 'first'])));
    await rename(temporary, gateway.configFile);
    const local = gateway;
    await waitFor(async () => (await servedBy(local)) === 'second', 3000, 'reload after rename');
  });

  it('rejects an invalid edit, keeps serving the old table, and shows the error in status and metrics', async () => {
    gateway = await startTestGateway(config(['first', 'second']));
    const local = gateway;
    await writeFile(local.configFile, stringify(config(['second', 'first'])).replace(/revision: v1/g, 'revision: latest'));
    await waitFor(() => local.logs.messages('config reload rejected; the previous config keeps serving').length === 1, 3000, 'rejection');
    expect(await servedBy(local)).toBe('first');
    const status = (await (await fetch(`${local.url}/admin/status`)).json()) as StatusBody;
    expect(status.config.last_reload?.result).toBe('error');
    expect(status.config.last_reload?.problems[0]).toMatch(/^routes\.chat\[0\]\.revision \(line \d+:\d+\): floating revision "latest"/);
    const metrics = await (await fetch(`${local.url}/metrics`)).text();
    expect(metrics).toMatch(/pinroute_config_reloads_total\{result="error"\} 1/);
    // A broken YAML edit is rejected the same way.
    await writeFile(local.configFile, 'routes: [unclosed\n');
    await waitFor(() => local.logs.messages('config reload rejected; the previous config keeps serving').length === 2, 3000, 'second rejection');
    expect(await servedBy(local)).toBe('first');
  });

  it('rejects an edit with a YAML alias that has no anchor, and keeps serving (it used to crash the process)', async () => {
    gateway = await startTestGateway(config(['first', 'second']));
    const local = gateway;
    await writeFile(local.configFile, `${stringify(config(['second', 'first']))}extra: *nowhere\n`);
    await waitFor(() => local.logs.messages('config reload rejected; the previous config keeps serving').length === 1, 3000, 'rejection');
    const status = (await (await fetch(`${local.url}/admin/status`)).json()) as StatusBody;
    expect(status.config.last_reload?.problems[0]).toMatch(/^document \(line \d+:\d+\): YAML: alias \*nowhere has no anchor/);
    expect(await servedBy(local)).toBe('first');
    // The watcher is still alive: the next good edit applies.
    await writeFile(local.configFile, stringify(config(['second', 'first'])));
    await waitFor(async () => (await servedBy(local)) === 'second', 3000, 'reload after the rejected edit');
  });

  it('keeps the breaker state of unchanged targets, and starts afresh for a backend moved to another URL', async () => {
    gateway = await startTestGateway(config(['first', 'second']));
    const local = gateway;
    upstream.first.setDefault({ kind: 'status', status: 500 });
    for (let index = 0; index < 3; index++) await servedBy(local);
    const before = (await (await fetch(`${local.url}/admin/status`)).json()) as StatusBody;
    expect(before.routes[0]?.targets[0]?.counters.attempts).toBe(3);
    // A new route is added; the chat route is unchanged.
    await writeFile(local.configFile, stringify(config(['first', 'second'], { other: [{ backend: 'second', model: 'second-model', revision: 'v1' }] })));
    await waitFor(() => local.logs.messages('config reloaded').length === 1, 3000, 'reload');
    const after = (await (await fetch(`${local.url}/admin/status`)).json()) as StatusBody;
    expect(after.routes.map((route) => route.name)).toEqual(['chat', 'other']);
    expect(after.routes[0]?.targets[0]?.counters.attempts).toBe(3);
    // Moving the backend to another URL makes it another deployment: its state starts afresh.
    const moved = config(['first', 'second']) as { backends: { first: { base_url: string } } };
    moved.backends.first.base_url = upstream.second.url;
    await writeFile(local.configFile, stringify(moved));
    await waitFor(() => local.logs.messages('config reloaded').length === 2, 3000, 'second reload');
    const afterMove = (await (await fetch(`${local.url}/admin/status`)).json()) as StatusBody;
    expect(afterMove.routes[0]?.targets[0]?.counters.attempts).toBe(0);
  });

  it('SIGHUP reloads a gateway process', async () => {
    const file = await writeConfig(config(['first', 'second']));
    const replica = await GatewayProcess.start(file);
    try {
      expect(await servedBy(replica)).toBe('first');
      await writeFile(file, stringify(config(['second', 'first'])));
      replica.signal('SIGHUP');
      await waitFor(async () => (await servedBy(replica)) === 'second', 3000, 'reload');
      // The file watcher may have seen the write too; SIGHUP forces a re-read of its own.
      await waitFor(() => replica.logs('config reloaded').some((line) => line['reason'] === 'signal'), 3000, 'reload on SIGHUP');
    } finally {
      await replica.stop();
    }
  });
});
