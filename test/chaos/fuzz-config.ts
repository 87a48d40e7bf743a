/**
 * Fuzzing routes.config.yaml: random structural edits (keys deleted, renamed,
 * added, values of every type, ${VAR} forms, floating revisions) and textual
 * damage (inserted YAML syntax, broken indentation, truncation) of a valid
 * config, with random environment values for its ${VAR}s, fed to
 * - the loader in-process (`parseConfigText`): never throws, answers fast, and
 *   "has a table" ⇔ "has no error", every problem placed at line:column;
 * - `pinroute check`: exit 0 or 1 exactly as the loader says, never a crash;
 * - a running gateway as hot-reload edits: accepted or rejected exactly as the
 *   loader says, the gateway stays up, and restoring the file restores service.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, parseDocument, stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/problems.js';
import { runCli } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { runProperty, type FuzzOutcome } from './fuzz-http.js';
import { FUZZ_CLIENT_KEY, type FuzzTarget } from './fuzz-target.js';

type Mutation =
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'set'; readonly at: number; readonly value: unknown }
  | { readonly op: 'rename'; readonly at: number; readonly key: string }
  | { readonly op: 'add'; readonly at: number; readonly key: string; readonly value: unknown }
  | { readonly op: 'insert'; readonly at: number; readonly text: string }
  | { readonly op: 'cut'; readonly at: number; readonly length: number }
  | { readonly op: 'indent'; readonly line: number; readonly spaces: number }
  | { readonly op: 'truncate'; readonly at: number };

const interestingValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(
    -1, 0, 1, 0.5, 2 ** 31, 1e15, '', 'latest', 'main', 'Stable', 'v1:latest', 'gpt-4o', 'unpinned',
    '${UNSET_CHAOS_VAR}', '${UNSET_CHAOS_VAR:-5}', '${FUZZ_CLIENT_KEY}', '$$', '${', 'http://[::1', 'ftp://x', 'redis://',
    'vllm', 'tgi', 'cluster', 'serve', 'fail', null, true, [], {}, 'sk-abcdefghijklmnopqrstuvwxyz012345',
  ),
);

const interestingKey = fc.oneof(
  fc.constantFrom('revison', 'timeout', 'targets', 'backend', 'model', 'revision', 'api_key', 'verify', 'probe', 'retry', 'breaker', '<<', 'type', 'routes'),
  fc.string({ maxLength: 8 }),
);

const yamlSnippet = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(': ', '- ', '\n', '  ', '"', "'", '{', '[', '&a ', '*a', '<<: *a\n', '!!binary ', '%YAML 1.1\n', '---\n', '...\n', '#', '\t', '? ', '|\n', '>', ': : :', '\u0000', '\uFEFF'),
);

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: interestingValue }),
  fc.record({ op: fc.constant('rename' as const), at: fc.nat(), key: interestingKey }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: interestingKey, value: interestingValue }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: yamlSnippet }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('indent' as const), line: fc.nat(), spaces: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

export const mutationsArbitrary = fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 });

type Tree = Record<string, unknown> | unknown[];

/** Applies structural edits to the parsed config, then textual ones to its YAML. */
export function mutateConfig(baseText: string, mutations: readonly Mutation[]): string {
  const tree = parse(baseText) as Tree;
  for (const mutation of mutations) applyStructural(tree, mutation);
  let text = stringify(tree);
  for (const mutation of mutations) text = applyTextual(text, mutation);
  return text;
}

function containers(node: unknown, found: Tree[] = []): Tree[] {
  if (typeof node !== 'object' || node === null) return found;
  found.push(node as Tree);
  for (const child of Object.values(node)) containers(child, found);
  return found;
}

function applyStructural(tree: Tree, mutation: Mutation): void {
  if (!['delete', 'set', 'rename', 'add'].includes(mutation.op) || !('at' in mutation)) return;
  const all = containers(tree);
  const parent = all[mutation.at % all.length] as Tree;
  const keys = Object.keys(parent);
  const key = keys.length > 0 ? (keys[mutation.at % keys.length] as string) : null;
  const record = parent as Record<string, unknown>;
  switch (mutation.op) {
    case 'delete':
      if (key === null) return;
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete record[key];
      return;
    case 'set':
      if (key !== null) record[key] = mutation.value;
      return;
    case 'rename':
      if (key === null || Array.isArray(parent)) return;
      record[mutation.key] = record[key];
      if (mutation.key !== key) delete record[key];
      return;
    case 'add':
      if (Array.isArray(parent)) parent.push(mutation.value);
      else record[mutation.key] = mutation.value;
      return;
    default:
      return;
  }
}

function applyTextual(text: string, mutation: Mutation): string {
  switch (mutation.op) {
    case 'insert': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + mutation.text + text.slice(at);
    }
    case 'cut': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + mutation.length);
    }
    case 'indent': {
      const lines = text.split('\n');
      const index = mutation.line % lines.length;
      const line = lines[index] ?? '';
      lines[index] = mutation.spaces >= 0 ? ' '.repeat(mutation.spaces) + line : line.replace(new RegExp(`^ {0,${-mutation.spaces}}`), '');
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, mutation.at % (text.length + 1));
    default:
      return text;
  }
}

/** What the loader says about a text: its verdict, and a reason when it broke its own contract. */
export function judgeConfig(text: string, env: Record<string, string>): { valid: boolean; violation: string | null } {
  const started = performance.now();
  let parsed: ReturnType<typeof parseConfigText>;
  try {
    parsed = parseConfigText(text, env);
  } catch (error) {
    return { valid: false, violation: `parseConfigText threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` };
  }
  const elapsedMs = performance.now() - started;
  if (elapsedMs > 2000) return { valid: false, violation: `parseConfigText took ${Math.round(elapsedMs)} ms` };
  const errors = parsed.problems.filter((problem) => problem.severity === 'error');
  if ((parsed.table === null) !== (errors.length > 0)) {
    return { valid: false, violation: `table ${parsed.table === null ? 'missing' : 'present'} with ${errors.length} error(s)` };
  }
  // A file with no YAML content at all (empty, comments only) has nowhere to point.
  const hasContent = parseDocument(text).contents !== null;
  for (const problem of parsed.problems) {
    const line = formatProblem(problem);
    if (problem.message.trim() === '') return { valid: false, violation: `a problem without a message: ${line}` };
    if (problem.line === undefined && hasContent) return { valid: false, violation: `a problem without line:column: ${line}` };
  }
  return { valid: parsed.table !== null, violation: null };
}

/** Values an environment variable may hold, including ones that read as YAML syntax once expanded unquoted. */
const environmentValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('*a', '&a', '!!binary', '!tag x', '[1', '{a: 1}', '- x', 'null', '~', '0x1F', '1e400', ': x', '|', '>', '? x', '%x', '@x', '`x', "'", '"', '#x', 'a: b'),
);

export async function fuzzConfigParse(target: FuzzTarget, numRuns: number, seed: number): Promise<FuzzOutcome> {
  const environment = fc.record({ ONE_KEY: environmentValue, FUZZ_ADMIN_KEY: environmentValue, FUZZ_CLIENT_KEY: environmentValue }, { requiredKeys: [] });
  const property = fc.asyncProperty(mutationsArbitrary, environment, async (mutations, extra) => {
    // The loader is synchronous: yield each run, or the loopback upstreams of this process starve.
    await new Promise((resolve) => setImmediate(resolve));
    const verdict = judgeConfig(mutateConfig(target.baseConfigText, mutations), { ...target.env, ...extra });
    if (verdict.violation) throw new Error(verdict.violation);
  });
  const outcome = await runProperty('config files → parseConfigText', property, numRuns, seed, null);
  return { ...outcome, detail: outcome.ok ? 'never threw; table ⇔ no error; every problem at line:column' : outcome.detail };
}

export async function fuzzConfigCheck(target: FuzzTarget, numRuns: number, seed: number): Promise<FuzzOutcome> {
  const directory = await mkdtemp(join(tmpdir(), 'pinroute-chaos-check-'));
  let index = 0;
  const property = fc.asyncProperty(mutationsArbitrary, async (mutations) => {
    const text = mutateConfig(target.baseConfigText, mutations);
    const file = join(directory, `config-${index++}.yaml`);
    await writeFile(file, text);
    const { valid } = judgeConfig(text, target.env);
    const result = await runCli(['check', '--config', file], target.env, 15_000);
    if (result.code !== (valid ? 0 : 1)) throw new Error(`pinroute check exited ${result.code}, the loader says ${valid ? 'valid' : 'invalid'}: ${result.stderr.slice(0, 300)}`);
    if (/\n\s+at .+\(.+:\d+:\d+\)/.test(result.stderr)) throw new Error(`a stack trace on stderr: ${result.stderr.slice(0, 300)}`);
  });
  const outcome = await runProperty('config files → pinroute check', property, numRuns, seed, null);
  return { ...outcome, detail: outcome.ok ? 'exit code as the loader says; no stack trace' : outcome.detail };
}

/** Mutated configs saved over a running gateway's file: reload verdict as the loader says, gateway up, restore works. */
export async function fuzzHotReload(target: FuzzTarget, numRuns: number, seed: number): Promise<FuzzOutcome> {
  let current = target.baseConfigText;
  const save = async (text: string) => {
    const before = await reloadCounts(target.url);
    await writeFile(target.configFile, text);
    current = text;
    await waitFor(async () => {
      const now = await reloadCounts(target.url);
      return now.success + now.error > before.success + before.error;
    }, 6000, 'the gateway to react to the edit');
    const after = await reloadCounts(target.url);
    return after.success > before.success ? 'success' : 'error';
  };
  const property = fc.asyncProperty(mutationsArbitrary, async (mutations) => {
    const text = mutateConfig(target.baseConfigText, mutations);
    fc.pre(text !== current && text !== target.baseConfigText);
    const { valid } = judgeConfig(text, target.env);
    const result = await save(text);
    if (result !== (valid ? 'success' : 'error')) throw new Error(`reload ${result}, the loader says ${valid ? 'valid' : 'invalid'}`);
    if (!(await target.alive())) throw new Error('the gateway stopped answering /healthz after the edit');
    if ((await save(target.baseConfigText)) !== 'success') throw new Error('restoring the original config was rejected');
    const response = await fetch(`${target.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${FUZZ_CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
      signal: AbortSignal.timeout(8000),
    });
    if (response.status !== 200) throw new Error(`after restoring, a chat request got ${response.status}: ${(await response.text()).slice(0, 200)}`);
  });
  try {
    const outcome = await runProperty('config files → hot reload', property, numRuns, seed, target);
    return { ...outcome, detail: outcome.ok ? 'verdict as the loader says; up; restore serves' : outcome.detail };
  } finally {
    if (current !== target.baseConfigText) await writeFile(target.configFile, target.baseConfigText);
  }
}

async function reloadCounts(url: string): Promise<{ success: number; error: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  const count = (result: string) => Number(new RegExp(`^pinroute_config_reloads_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { success: count('success'), error: count('error') };
}
