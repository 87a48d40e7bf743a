import { describe, expect, it } from 'vitest';
import type { StatusDocument, TargetStatus } from '../observe/status-schema.js';
import { parseStatusDocument } from './status-document.js';
import { duration, renderStatus } from './status-render.js';

const SHA = '0e9e39f249a16976918f6564b8830bc894c89659';
const DRIFTED_SHA = '5206a32e0bd3067aef1ce90f5528ade7d866253f';
const DIGEST = 'sha256:46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e';
const STARTED = '2026-12-03T12:00:00.000Z';
const UPTIME_S = 2 * 3600 + 3 * 60 + 7;
/** The gateway's clock when it built the document: started_at + uptime_s. */
const NOW = Date.parse(STARTED) + UPTIME_S * 1000;
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
const ahead = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
const ESC = '\u001b';
const stripAnsi = (text: string) => text.replace(/\u001b\[\d+m/g, '');

function target(overrides: Partial<TargetStatus> & Pick<TargetStatus, 'backend' | 'model' | 'revision'>): TargetStatus {
  return {
    type: 'vllm',
    base_url: 'http://vllm.internal:8000/v1',
    usable: true,
    skip_reason: null,
    on_revision_mismatch: 'skip',
    breaker: 'closed',
    open_until: null,
    health: { up: true, checked_at: ago(4), latency_ms: 12, error: null },
    last_error: null,
    counters: { attempts: 10, successes: 10, failures: 0, skipped: 0 },
    ...overrides,
  };
}

/** A gateway having a bad day: Redis gone, a rejected reload, one target of each trouble. */
const troubled: StatusDocument = {
  service: 'pinroute',
  version: '0.1.0',
  replica_id: '3f1c2a9e-5b7d-4e21-9c0a-8d6f4b2e1a77',
  generated_at: new Date(NOW).toISOString(),
  started_at: STARTED,
  uptime_s: UPTIME_S,
  draining: true,
  config: {
    file: '/etc/pinroute/routes.config.yaml',
    last_reload: {
      at: ago(60),
      result: 'error',
      problems: ['routes.llama-3.1-8b[1].revision (line 41:17): floating revision "latest" can move; pin a commit sha, digest or dated snapshot'],
    },
  },
  state_store: { kind: 'redis', connected: false, since: ago(30), last_error: 'connect ECONNREFUSED 10.0.0.5:6379', location: 'redis://cache.internal:6379' },
  routes: [
    {
      name: 'llama-3.1-8b',
      total_ms: 120_000,
      targets: [
        target({
          backend: 'mirror',
          model: `llama-3.1-8b@${SHA}`,
          usable: false,
          skip_reason: 'breaker_open',
          breaker: 'open',
          open_until: ahead(25),
          revision: { pinned: SHA, is_pinned: true, observed: SHA, status: 'verified', checked_at: ago(5), detail: 'response model carries the pinned revision' },
          last_error: { outcome: '503', message: 'upstream answered 503: engine overloaded, please retry later; the scheduler queue is full (4096 waiting)', at: ago(3) },
        }),
        target({
          backend: 'local',
          type: 'ollama',
          model: 'llama3.1:8b-instruct-q8_0-with-an-unusually-long-tag',
          usable: false,
          skip_reason: 'down',
          health: { up: false, checked_at: ago(2), latency_ms: null, error: 'GET /api/version: connect ECONNREFUSED 127.0.0.1:11434' },
          revision: { pinned: DIGEST, is_pinned: true, observed: null, status: 'unverified', checked_at: null, detail: null },
        }),
        target({
          backend: 'spare',
          model: `llama-3.1-8b@${SHA}`,
          breaker: 'half_open',
          revision: { pinned: SHA, is_pinned: true, observed: DRIFTED_SHA, status: 'mismatch', checked_at: ago(9), detail: 'served another snapshot' },
        }),
      ],
    },
    {
      name: 'gpt-4o',
      total_ms: 20_000,
      targets: [
        target({
          backend: 'hosted',
          type: 'openai',
          model: 'gpt-4o-2024-08-06',
          health: { up: null, checked_at: null, latency_ms: null, error: null },
          revision: { pinned: 'gpt-4o-2024-08-06', is_pinned: true, observed: 'gpt-4o-2024-08-06', status: 'verified', checked_at: ago(1), detail: null },
        }),
      ],
    },
  ],
};

const plain = renderStatus(troubled, { colour: false, source: 'http://10.0.0.7:8080' });
const text = plain.join('\n');
const rowOf = (backend: string, lines = plain) => lines.find((line) => new RegExp(`^\\s+\\d+\\s+${backend}\\s`).test(stripAnsi(line))) ?? '';

describe('renderStatus header', () => {
  it('names service, version, source and uptime on the gateway clock', () => {
    expect(plain[0]).toBe('pinroute 0.1.0 at http://10.0.0.7:8080 · up 2h 03m (since 2026-12-03 12:00:00Z)');
  });

  it('shows the state store, draining, the config file and a rejected reload with its errors', () => {
    expect(text).toContain('state store  redis (redis://cache.internal:6379) · disconnected since 2026-12-03 14:02:37Z (connect ECONNREFUSED 10.0.0.5:6379); serving on local state');
    expect(text).toMatch(/^draining {5}yes/m);
    expect(text).toContain('config       /etc/pinroute/routes.config.yaml');
    expect(text).toContain('last reload  rejected at 2026-12-03 14:02:07Z (the previous config keeps serving)');
    expect(text).toContain('error: routes.llama-3.1-8b[1].revision (line 41:17): floating revision "latest"');
  });

  it('says when nothing was reloaded and the store is fine', () => {
    const calm = renderStatus({ ...troubled, draining: false, config: { ...troubled.config, last_reload: null }, state_store: { ...troubled.state_store, connected: true, last_error: null } }, { colour: false });
    expect(calm[0]).toBe('pinroute 0.1.0 · up 2h 03m (since 2026-12-03 12:00:00Z)');
    expect(calm.join('\n')).toContain('last reload  none since start');
    expect(calm.join('\n')).toMatch(/· connected since/);
    expect(calm.join('\n')).toMatch(/^draining {5}no$/m);
  });
});

describe('renderStatus targets', () => {
  it('lists routes in document order, targets in fallback order', () => {
    const titles = plain.filter((line) => line.startsWith('route '));
    expect(titles).toEqual(['route llama-3.1-8b  (3 targets, chain deadline 2m 00s)', 'route gpt-4o  (1 target, chain deadline 20s)']);
    const positions = ['mirror', 'local', 'spare', 'hosted'].map((backend) => plain.indexOf(rowOf(backend)));
    expect(positions.every((position, index) => position > 0 && (index === 0 || position > (positions[index - 1] ?? 0)))).toBe(true);
    expect(rowOf('spare')).toMatch(/^\s+3\s+spare/);
  });

  it('shows usability, breaker with time left, health, pinned vs observed revision and the last error', () => {
    const cells = (backend: string) => rowOf(backend).trim().split(/\s{2,}/);
    expect(cells('mirror')).toEqual([
      '1',
      'mirror',
      'llama-3.1-8b@0e9e39f249a1…',
      'skip: breaker_open',
      'open 25s',
      'up',
      '0e9e39f249a1…',
      '0e9e39f249a1…',
      'verified',
      '503 (3s ago): upstream answered 503: engine overloaded, please retry la…', // 72 columns in a pipe
    ]);
    expect(cells('local')).toEqual([
      '2',
      'local',
      'llama3.1:8b-inst…sually-long-tag',
      'skip: down',
      'closed',
      'down',
      'sha256:46e0c10c039e…',
      '—',
      'unverified',
      'health: GET /api/version: connect ECONNREFUSED 127.0.0.1:11434',
    ]);
    expect(cells('spare')).toEqual(['3', 'spare', 'llama-3.1-8b@0e9e39f249a1…', 'usable', 'half_open', 'up', '0e9e39f249a1…', '5206a32e0bd3…', 'mismatch', '—']);
    expect(cells('hosted')).toEqual(['1', 'hosted', 'gpt-4o-2024-08-06', 'usable', 'closed', 'unknown', 'gpt-4o-2024-08-06', 'gpt-4o-2024-08-06', 'verified', '—']);
  });

  it('aligns every column across routes', () => {
    const headers = plain.filter((line) => line.trim().startsWith('#'));
    expect(headers).toHaveLength(2);
    expect(headers[0]).toBe(headers[1]);
    for (const column of ['backend', 'breaker', 'pinned', 'observed', 'status', 'last error']) {
      const at = headers[0]?.indexOf(column) ?? -1;
      for (const backend of ['mirror', 'local', 'spare', 'hosted']) expect(rowOf(backend)[at - 1]).toBe(' ');
    }
  });

  it('ends with a summary', () => {
    expect(plain.at(-1)).toBe('2 routes, 4 targets: 2 usable, 2 skipped; 2 verified, 1 revision mismatch');
  });

  it('says so when there are no routes', () => {
    expect(renderStatus({ ...troubled, routes: [] }, { colour: false })).toContain('no routes configured');
  });
});

describe('renderStatus width and colour', () => {
  it('gives the last error what a terminal leaves, never less than 40 columns', () => {
    for (const width of [200, 240]) {
      const rows = renderStatus(troubled, { colour: false, width }).filter((line) => /^\s+\d+\s/.test(line));
      expect(Math.max(...rows.map((line) => [...line].length))).toBeLessThanOrEqual(width);
    }
    expect(rowOf('mirror', renderStatus(troubled, { colour: false, width: 300 }))).toMatch(/the scheduler queue is full \(4096 waiting\)$/);
    const narrow = renderStatus(troubled, { colour: false, width: 80 });
    expect(rowOf('mirror', narrow).split('  ').at(-1)).toHaveLength(40);
  });

  it('uses no escape codes without colour, and the same text with colour', () => {
    expect(text).not.toContain(ESC);
    const coloured = renderStatus(troubled, { colour: true, source: 'http://10.0.0.7:8080' });
    expect(coloured.map(stripAnsi)).toEqual(plain);
  });

  it('paints good green, bad red and in-between yellow', () => {
    const coloured = renderStatus(troubled, { colour: true });
    const red = (value: string) => new RegExp(`\\u001b\\[31m${value}\\s*\\u001b\\[0m`);
    const green = (value: string) => new RegExp(`\\u001b\\[32m${value}\\s*\\u001b\\[0m`);
    const yellow = (value: string) => new RegExp(`\\u001b\\[33m${value}\\s*\\u001b\\[0m`);
    expect(rowOf('mirror', coloured)).toMatch(red('open 25s'));
    expect(rowOf('mirror', coloured)).toMatch(red('skip: breaker_open'));
    expect(rowOf('mirror', coloured)).toMatch(green('verified'));
    expect(rowOf('local', coloured)).toMatch(red('down'));
    expect(rowOf('local', coloured)).toMatch(yellow('unverified'));
    expect(rowOf('spare', coloured)).toMatch(yellow('half_open'));
    expect(rowOf('spare', coloured)).toMatch(red('mismatch'));
    expect(rowOf('spare', coloured)).toMatch(red('5206a32e0bd3…'));
    expect(rowOf('hosted', coloured)).toMatch(green('usable'));
    expect(rowOf('hosted', coloured)).toMatch(green('closed'));
    expect(coloured.join('\n')).toMatch(red('disconnected'));
  });

  it('shows a 429 cooldown on a closed breaker as cooling', () => {
    const cooling = target({ backend: 'rl', model: 'm', usable: false, skip_reason: 'breaker_open', open_until: ahead(90), revision: { pinned: 'v1', is_pinned: true, observed: null, status: 'unverified', checked_at: null, detail: null } });
    const lines = renderStatus({ ...troubled, routes: [{ name: 'r', total_ms: 1000, targets: [cooling] }] }, { colour: false });
    expect(rowOf('rl', lines)).toContain('cooling 1m 30s');
  });
});

describe('duration', () => {
  it('uses two units at most', () => {
    expect([0, 42, 303, 11_520, 2 * 86_400 + 4 * 3600 + 59].map(duration)).toEqual(['0s', '42s', '5m 03s', '3h 12m', '2d 4h']);
  });
});

describe('parseStatusDocument', () => {
  it('accepts the document the gateway sends, extra fields included', () => {
    const parsed = parseStatusDocument(JSON.stringify({ ...troubled, replica: 'r-1' }));
    expect(parsed.ok && parsed.document.routes[0]?.targets[2]?.revision.observed).toBe(DRIFTED_SHA);
  });

  it('names the first field that is wrong', () => {
    const broken = JSON.parse(JSON.stringify(troubled)) as { routes: { targets: { revision: Record<string, unknown> }[] }[] };
    delete broken.routes[0]?.targets[1]?.revision['pinned'];
    const parsed = parseStatusDocument(JSON.stringify(broken));
    expect(parsed).toEqual({ ok: false, problem: expect.stringContaining('at routes[0].targets[1].revision.pinned') });
  });

  it('tells non-JSON and other JSON apart', () => {
    expect(parseStatusDocument('<html>')).toEqual({ ok: false, problem: expect.stringContaining('not JSON') });
    expect(parseStatusDocument('{"status":"ok"}')).toEqual({ ok: false, problem: expect.stringContaining('not a pinroute status document') });
  });
});
