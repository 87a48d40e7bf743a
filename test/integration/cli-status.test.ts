/**
 * `pinroute status` as a user runs it: the real bin against a real gateway
 * (fake upstreams behind it), as a table, as --json, behind an admin key, and
 * against addresses where no gateway answers.
 */
import { createServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/main.js';
import { createLogger } from '../../src/observe/logger.js';
import { runCli } from '../support/cli.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { LogSink } from '../support/log-sink.js';
import { startTestGateway, testConfig, writeConfig, type TestGateway } from '../support/start-gateway.js';

const SHA = '0e9e39f249a16976918f6564b8830bc894c89659';
const VLLM_MODEL = `llama-3.1-8b@${SHA}`;
const PIN = 'gpt-4o-2024-08-06';
const DRIFTED = 'gpt-4o-2024-11-20';
const ADMIN_KEY = 'admin-test-key-7f3a';
const messages = [{ role: 'user' as const, content: 'hi' }];

let mirror: FakeUpstream;
let hosted: FakeUpstream;
let gateway: TestGateway;

function config(server: object = {}): object {
  return testConfig({
    server,
    backends: {
      mirror: { type: 'vllm', base_url: mirror.url },
      hosted: { type: 'openai', base_url: hosted.url, api_key: 'sk-test' },
    },
    routes: {
      'llama-3.1-8b': [{ backend: 'mirror', model: VLLM_MODEL, revision: SHA }],
      'gpt-4o': [
        { backend: 'hosted', model: PIN, revision: PIN },
        { backend: 'mirror', model: VLLM_MODEL, revision: SHA },
      ],
    },
  });
}

beforeAll(async () => {
  // Probe answers of healthy backends (vLLM /health and /v1/models, OpenAI /v1/models/{model}),
  // so a gateway that probes sees them up, and the pins stay decided by the answers below.
  mirror = await FakeUpstream.start({
    servedModel: VLLM_MODEL,
    probes: { '/health': { status: 200 }, '/v1/models': { status: 200, body: { object: 'list', data: [{ id: VLLM_MODEL, object: 'model', root: VLLM_MODEL }] } } },
  });
  hosted = await FakeUpstream.start({
    servedModel: DRIFTED,
    probes: { [`/v1/models/${PIN}`]: { status: 200, body: { id: PIN, object: 'model', created: 1722902400, owned_by: 'system' } } },
  });
  gateway = await startTestGateway(config());
  // One request per route, so the document has a verified pin and a mismatch to show.
  await gateway.client().chat.completions.create({ model: 'llama-3.1-8b', messages });
  await gateway.client().chat.completions.create({ model: 'gpt-4o', messages });
});

afterAll(async () => {
  await gateway.stop();
  await mirror.close();
  await hosted.close();
});

describe('pinroute status', () => {
  it('prints routes, targets in fallback order, pinned and observed revisions', async () => {
    const result = await runCli(['status', '--url', gateway.url]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^pinroute \d+\.\d+\.\d+ at http:\/\/127\.0\.0\.1:\d+ · up \d+s/);
    expect(result.stdout).toMatch(/^state store {2}memory \(embedded\) · connected since/m);
    expect(result.stdout).toContain(`config       ${gateway.configFile}`);

    const llama = lines.indexOf(lines.find((line) => line.startsWith('route llama-3.1-8b')) ?? '');
    const gpt = lines.indexOf(lines.find((line) => line.startsWith('route gpt-4o')) ?? '');
    // The document's order: the order of the config file.
    expect(llama).toBeGreaterThan(0);
    expect(gpt).toBeGreaterThan(llama);
    const cells = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);
    // Health is "unknown" until the first probe has answered, "up" after.
    const health = expect.stringMatching(/^(up|unknown)$/);
    // llama-3.1-8b: the mirror served its pin.
    expect(cells(lines[llama + 2]).slice(0, 9)).toEqual(['1', 'mirror', 'llama-3.1-8b@0e9e39f249a1…', 'usable', 'closed', health, '0e9e39f249a1…', '0e9e39f249a1…', 'verified']);
    // gpt-4o: hosted answered another snapshot, so it is skipped and the mirror served.
    expect(cells(lines[gpt + 2])).toEqual(['1', 'hosted', PIN, 'skip: revision_mismatch', 'closed', health, PIN, DRIFTED, 'mismatch', expect.stringMatching(/^revision_mismatch \(\d+s ago\): response model "gpt-4o-2024-11-20"/)]);
    expect(cells(lines[gpt + 3])[1]).toBe('mirror');
    expect(result.stdout).toMatch(/^2 routes, 3 targets: 2 usable, 1 skipped; 2 verified, 1 revision mismatch$/m);
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('--json passes the document through for machines', async () => {
    const result = await runCli(['status', '--url', gateway.url, '--json']);
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith('{"service":"pinroute"')).toBe(true);
    const document = JSON.parse(result.stdout) as { routes: { name: string; targets: { backend: string; revision: { pinned: string; observed: string | null; status: string } }[] }[] };
    expect(document.routes.map((route) => route.name)).toEqual(['llama-3.1-8b', 'gpt-4o']);
    expect(document.routes[1]?.targets.map((target) => [target.backend, target.revision])).toEqual([
      ['hosted', expect.objectContaining({ pinned: PIN, observed: DRIFTED, status: 'mismatch' })],
      ['mirror', expect.objectContaining({ pinned: SHA, observed: SHA, status: 'verified' })],
    ]);
  });

  it('colours only when asked to outside a terminal, and reads PINROUTE_URL', async () => {
    const forced = await runCli(['status'], { PINROUTE_URL: gateway.url, FORCE_COLOR: '1' });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/\u001b\[32mverified\s*\u001b\[0m/);
    expect(forced.stdout).toMatch(/\u001b\[31mmismatch\s*\u001b\[0m/);
    const noColour = await runCli(['status', '--url', gateway.url], { NO_COLOR: '1' });
    expect(noColour.stdout).not.toContain('\u001b[');
  });
});

describe('pinroute status behind server.admin_key', () => {
  let guarded: TestGateway;
  beforeAll(async () => {
    guarded = await startTestGateway(config({ admin_key: ADMIN_KEY }));
  });
  afterAll(async () => {
    await guarded.stop();
  });

  it('without PINROUTE_ADMIN_KEY: exit 1 and says to set it', async () => {
    const result = await runCli(['status', '--url', guarded.url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${guarded.url}/admin/status answered 401`);
    expect(result.stderr).toContain('set PINROUTE_ADMIN_KEY');
  });

  it('with a wrong key: exit 1 and says the key was rejected', async () => {
    const result = await runCli(['status', '--url', guarded.url], { PINROUTE_ADMIN_KEY: 'not-the-key' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('PINROUTE_ADMIN_KEY was rejected');
  });

  it('with the key: the table', async () => {
    const result = await runCli(['status', '--url', guarded.url], { PINROUTE_ADMIN_KEY: ADMIN_KEY });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^route llama-3\.1-8b/m);
    expect(result.stdout + result.stderr).not.toContain(ADMIN_KEY);
  });
});

/** An address of this host that is not loopback, if it has one (containers usually do). */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address;

describe('pinroute status where it cannot read a status document', () => {
  it('an unreachable gateway: exit 1, naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(['status', '--url', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach ${url}/admin/status`);
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr).toContain('Is the gateway running there?');
  });

  it('a gateway that never answers: exit 1 after the timeout, not a hang', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const result = await runCli(['status', '--url', `http://127.0.0.1:${port}`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no answer within 5 s');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('something that is not a gateway: exit 1', async () => {
    const other = await FakeUpstream.start();
    try {
      const missing = await runCli(['status', '--url', `http://127.0.0.1:${other.port}`]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('answered 404');
      expect(missing.stderr).toContain('Is this a pinroute gateway?');
      other.setProbe('/admin/status', { status: 200, body: { status: 'ok' } });
      for (const args of [[], ['--json']]) {
        const wrong = await runCli(['status', '--url', `http://127.0.0.1:${other.port}`, ...args]);
        expect(wrong.code).toBe(1);
        expect(wrong.stdout).toBe('');
        expect(wrong.stderr).toContain('not a pinroute status document');
      }
    } finally {
      await other.close();
    }
  });

  it('a URL that is not http(s), or carries credentials: exit 2', async () => {
    const result = await runCli(['status', '--url', 'gateway.internal:8080']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--url must be an http(s) URL');
    const withSecret = await runCli(['status', '--url', `http://admin:s3cret@127.0.0.1:${gateway.running.port}`]);
    expect(withSecret.code).toBe(2);
    expect(withSecret.stderr).toContain('set PINROUTE_ADMIN_KEY instead');
    expect(withSecret.stderr).not.toContain('s3cret');
  });

  it.skipIf(externalAddress === undefined)('no admin key and not on the gateway host: exit 1, says what to do', async () => {
    const logs = new LogSink();
    const configFile = await writeConfig(config());
    const remote = await startGateway({ configFile, env: {}, port: 0, host: externalAddress ?? '', logger: createLogger({ level: 'warn', destination: logs }) });
    try {
      const result = await runCli(['status', '--url', remote.url]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('answered 403');
      expect(result.stderr).toContain('run it on the gateway host, or configure server.admin_key');
    } finally {
      await remote.stop(1000);
    }
  });
});

/** A port that was free a moment ago and has no listener now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
