/**
 * routes.config.yaml → RoutingTable. YAML is parsed keeping source positions so
 * every problem (syntax, ${VAR}, shape, cross-reference) is reported with its
 * YAML path and line:column. Nothing here runs on the request path.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { compileConfig } from './compile.js';
import { interpolate, type Environment } from './interpolate.js';
import { ConfigInvalid, configError, formatPath, sortProblems, type ConfigPath, type ConfigProblem } from './problems.js';
import { configSchema, type Config } from './schema.js';
import type { RoutingTable } from './table.js';
import { describeIssue } from './zod-issues.js';

export interface LoadedConfig {
  readonly table: RoutingTable;
  /** Warnings only; a config with errors throws ConfigInvalid. */
  readonly warnings: readonly ConfigProblem[];
}

export interface ParsedConfig {
  readonly table: RoutingTable | null;
  readonly problems: readonly ConfigProblem[];
}

export async function loadConfigFile(file: string, env: Environment): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error && error.code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigInvalid(file, [configError([], `cannot read ${file}: ${reason}`)]);
  }
  const parsed = parseConfigText(text, env);
  if (!parsed.table) throw new ConfigInvalid(file, parsed.problems);
  return { table: parsed.table, warnings: parsed.problems.filter((problem) => problem.severity === 'warning') };
}

/** Parses and validates config text; never throws for bad input. */
export function parseConfigText(text: string, env: Environment): ParsedConfig {
  const lineCounter = new LineCounter();
  // logLevel 'error': yaml would otherwise print some findings (a collection used as a key) as process
  // warnings on stderr, outside our JSON log; the schema reports those keys as problems anyway.
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  const locate = (problem: ConfigProblem) => placeProblem(problem, document, lineCounter);
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => {
      const position = error.linePos?.[0];
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      return { ...configError([], `YAML syntax: ${message}`), ...(position ? { line: position.line, column: position.col } : {}) };
    });
    return { table: null, problems };
  }
  const environmentPaths = new Set<string>();
  const envProblems: ConfigProblem[] = [];
  interpolateNode(document.contents, [], env, environmentPaths, envProblems);
  if (envProblems.length > 0) return { table: null, problems: sortProblems(envProblems.map(locate)) };

  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    // yaml reports an alias without its anchor, or an alias bomb, only here, by throwing.
    return { table: null, problems: [aliasProblem(error, document, lineCounter)] };
  }
  const shape = configSchema.safeParse(raw);
  if (!shape.success) {
    const problems = shape.error.issues.flatMap((issue) => describeIssue(issue as z.core.$ZodIssue, configSchema));
    return { table: null, problems: sortProblems(problems.map(locate)) };
  }
  const applied = applyEnvironmentOverrides(shape.data, env);
  const compiled = compileConfig(applied, { environmentPaths });
  return { table: compiled.table, problems: sortProblems(compiled.problems.map(locate)) };
}

function aliasProblem(error: unknown, document: Document, lineCounter: LineCounter): ConfigProblem {
  let unresolved: { source: string; offset: number } | null = null;
  visit(document, {
    Alias(_key, alias) {
      if (alias.resolve(document) !== undefined) return undefined;
      unresolved = { source: alias.source, offset: alias.range?.[0] ?? 0 };
      return visit.BREAK;
    },
  });
  const found = unresolved as { source: string; offset: number } | null;
  const message = found
    ? `YAML: alias *${found.source} has no anchor &${found.source} before it`
    : `YAML: ${error instanceof Error ? error.message : String(error)}`;
  const position = lineCounter.linePos(found?.offset ?? 0);
  return { ...configError([], message), line: position.line, column: position.col };
}

/** REDIS_URL in the environment wins over the file (twelve-factor: deploy-time settings). */
function applyEnvironmentOverrides(config: Config, env: Environment): Config {
  const redisUrl = env['REDIS_URL'];
  if (redisUrl === undefined || redisUrl === '') return config;
  return { ...config, state: { ...config.state, redis_url: redisUrl } };
}

function interpolateNode(
  node: unknown,
  path: (string | number)[],
  env: Environment,
  environmentPaths: Set<string>,
  problems: ConfigProblem[],
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      interpolateNode(pair.value, [...path, key], env, environmentPaths, problems);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => interpolateNode(item, [...path, index], env, environmentPaths, problems));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
    const result = interpolate(node.value, env);
    if (!result.usedEnvironment) {
      node.value = result.value;
      return;
    }
    environmentPaths.add(formatPath(path));
    for (const name of result.missing) {
      problems.push(
        configError(path, `environment variable ${name} is not set; set it, or give a default with \${${name}:-default}`),
      );
    }
    // An unquoted `${PORT:-8080}` is meant as the YAML value it expands to (a number here).
    node.value = node.type === Scalar.PLAIN ? plainScalarValue(result.value) : result.value;
  }
}

function plainScalarValue(text: string): unknown {
  let value: unknown;
  try {
    value = parseDocument(text, { logLevel: 'error' }).toJS();
  } catch {
    return text; // it reads as YAML that cannot stand alone (`*secret` is an alias to nothing): keep the text
  }
  return value === null || ['string', 'number', 'boolean'].includes(typeof value) ? (value ?? text) : text;
}

/**
 * Finds the source position for a problem's path. Bare-list routes are stored
 * as `{targets: [...]}`, so a `targets` segment that the YAML does not have is
 * dropped; a path that does not exist (a missing key) points at its parent.
 */
function placeProblem(problem: ConfigProblem, document: Document, lineCounter: LineCounter): ConfigProblem {
  const written = writtenPath(problem.path, document);
  for (let length = written.length; length >= 0; length--) {
    const node = problem.atKey && length === written.length ? keyNode(document, written) : document.getIn(written.slice(0, length), true);
    const range = rangeOf(node);
    // Offset 0 (the first key of the file, a document that is one scalar) is a real position.
    if (range !== null) {
      const position = lineCounter.linePos(range);
      return { ...problem, path: written, line: position.line, column: position.col };
    }
  }
  return { ...problem, path: written };
}

function writtenPath(path: ConfigPath, document: Document): ConfigPath {
  if (path[0] !== 'routes' || path[2] !== 'targets' || path.length < 3) return path;
  const route = document.getIn(path.slice(0, 2), true);
  return isSeq(route) ? [...path.slice(0, 2), ...path.slice(3)] : path;
}

function keyNode(document: Document, path: ConfigPath): unknown {
  const parent = document.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = path.at(-1);
  return parent.items.find((pair) => isScalar(pair.key) && pair.key.value === last)?.key;
}

function rangeOf(node: unknown): number | null {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as Node).range;
    if (range) return range[0];
  }
  return null;
}
