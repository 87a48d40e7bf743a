/**
 * Config validation against golden messages: each invalid fixture's problems,
 * formatted as `check` prints them, must equal its `.expected.txt`; valid
 * fixtures compile, with exactly the expected warnings. Regenerate the goldens
 * deliberately with UPDATE_GOLDEN=1 and review the diff.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from './load.js';
import { formatProblem } from './problems.js';

const CONFIGS = new URL('../../test/fixtures/configs/', import.meta.url);
const ENV = { CLIENT_KEY: 'client-key-from-env' };

function golden(kind: 'valid' | 'invalid', name: string, actual: string): void {
  const file = new URL(`${kind}/${name.replace(/\.yaml$/, '.expected.txt')}`, CONFIGS);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

function render(problems: ReturnType<typeof parseConfigText>['problems']): string {
  return problems.map((problem) => `${problem.severity}: ${formatProblem(problem)}`).join('\n') + '\n';
}

describe('invalid configs are rejected with path and line:column', () => {
  const files = readdirSync(new URL('invalid/', CONFIGS)).filter((file) => file.endsWith('.yaml'));
  it.each(files)('%s', (file) => {
    const result = parseConfigText(readFileSync(new URL(`invalid/${file}`, CONFIGS), 'utf8'), ENV);
    expect(result.table).toBeNull();
    expect(result.problems.some((problem) => problem.severity === 'error')).toBe(true);
    golden('invalid', file, render(result.problems));
  });
});

describe('valid configs compile', () => {
  const files = readdirSync(new URL('valid/', CONFIGS)).filter((file) => file.endsWith('.yaml'));
  it.each(files)('%s', (file) => {
    const result = parseConfigText(readFileSync(new URL(`valid/${file}`, CONFIGS), 'utf8'), ENV);
    expect(result.table).not.toBeNull();
    golden('valid', file, render(result.problems));
  });

  it('the shipped routes.config.yaml starts with no environment set', () => {
    const result = parseConfigText(readFileSync(new URL('../../routes.config.yaml', import.meta.url), 'utf8'), {});
    expect(result.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
    expect(result.table?.routeNames).toEqual(['gpt-4o', 'llama-3.1-8b']);
  });
});

describe('problems at the very start of the file', () => {
  it('are placed at line 1:1 like any other (offset 0 is a position)', () => {
    const unknownFirstKey = parseConfigText('serverr: {}\nbackends: {}\nroutes: {}\n', ENV).problems.filter((problem) => problem.severity === 'error');
    expect(unknownFirstKey.map(formatProblem)).toContain('serverr (line 1:1): unknown key "serverr"; did you mean "server"?');
    const missingKeys = parseConfigText('server:\n  port: 8080\n', ENV).problems;
    expect(missingKeys.length).toBeGreaterThan(0);
    for (const problem of missingKeys) expect([problem.line, problem.column]).toEqual([1, 1]);
    const notAMapping = parseConfigText('just text\n', ENV).problems;
    expect(notAMapping.map(formatProblem)).toEqual(['document (line 1:1): expected object, received string']);
  });
});

describe('YAML aliases', () => {
  it('an alias without its anchor is a placed problem, not an exception', () => {
    const result = parseConfigText('backends: {}\nroutes:\n  chat: *nowhere\n', ENV);
    expect(result.table).toBeNull();
    expect(result.problems.map(formatProblem)).toEqual(['document (line 3:9): YAML: alias *nowhere has no anchor &nowhere before it']);
  });

  it('a ${VAR} whose value reads as a YAML alias stays the text it expands to', () => {
    const text = readFileSync(new URL('valid/route-object-form.yaml', CONFIGS), 'utf8');
    expect(text).toContain('api_keys: ["${CLIENT_KEY}"]');
    const unquoted = text.replace('api_keys: ["${CLIENT_KEY}"]', 'api_keys:\n    - ${CLIENT_KEY}');
    const result = parseConfigText(unquoted, { CLIENT_KEY: '*starts-like-an-alias' });
    expect(result.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
    expect(result.table?.server.apiKeys).toEqual(['*starts-like-an-alias']);
  });

  it('an alias bomb is refused', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level <= 5; level++) {
      const name = String.fromCharCode(97 + level);
      const previous = String.fromCharCode(96 + level);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }
    const result = parseConfigText(`${levels.join('\n')}\n`, ENV);
    expect(result.table).toBeNull();
    expect(result.problems.map(formatProblem)[0]).toMatch(/^document \(line 1:1\): YAML: Excessive alias count/);
  });
});

describe('YAML oddities', () => {
  it('a collection used as a key is a config problem, not a process warning on stderr', async () => {
    const warnings: Error[] = [];
    const listener = (warning: Error) => warnings.push(warning);
    process.on('warning', listener);
    try {
      const result = parseConfigText('? [a, b]\n: x\nbackends: {}\nroutes: {}\n', ENV);
      await new Promise((resolve) => setImmediate(resolve));
      expect(result.table).toBeNull();
      expect(result.problems.map(formatProblem)[0]).toMatch(/^\[ a, b \] \(line 1:1\): unknown key "\[ a, b \]"/);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', listener);
    }
  });
});

describe('the compiled table', () => {
  const text = readFileSync(new URL('valid/route-object-form.yaml', CONFIGS), 'utf8');
  const table = parseConfigText(text, ENV).table;

  it('merges defaults, backend and route overrides (route wins)', () => {
    const [mirror, local] = table?.routes.get('llama')?.targets ?? [];
    expect(mirror?.timeouts).toEqual({ connect_ms: 3000, first_byte_ms: 60_000, idle_ms: 30_000, total_ms: 5000 });
    expect(mirror?.retry).toEqual({ attempts: 2, backoff_ms: 250, max_retry_after_ms: 5000 });
    expect(mirror?.onRevisionMismatch).toBe('fail');
    expect(local?.pinned).toBe(false);
    expect(table?.backends.get('local')?.probe).toEqual({ interval_ms: 5000, timeout_ms: 3000 });
  });

  it('interpolates ${VAR:-default} in plain scalars as the YAML value it expands to', () => {
    expect(table?.server.port).toBe(9090);
    expect(table?.server.apiKeys).toEqual(['client-key-from-env']);
  });

  it('normalises base_url and derives the server root', () => {
    const mirror = table?.backends.get('mirror');
    expect(mirror?.baseUrl).toBe('http://127.0.0.1:8000/v1');
    expect(mirror?.serverRoot).toBe('http://127.0.0.1:8000');
    expect(mirror?.basePath).toBe('/v1');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(table)).toBe(true);
    expect(Object.isFrozen(table?.routes.get('llama')?.targets[0])).toBe(true);
  });
});
