/**
 * Phase two of validation (phase one is the zod shape): cross-references, pin
 * rules and secret hygiene, then the frozen RoutingTable. Every problem carries
 * the YAML path it is about; load.ts turns paths into line:column.
 */
import { createHash } from 'node:crypto';
import { floatingRevisionReason, UNPINNED } from './pins.js';
import { configError, configWarning, formatPath, type ConfigPath, type ConfigProblem } from './problems.js';
import type { BackendConfig, Config, RouteConfig } from './schema.js';
import type { CompiledBackend, CompiledRoute, CompiledTarget, RoutingTable } from './table.js';

export interface CompileContext {
  /** Formatted paths (see formatPath) of strings that used ${VAR} interpolation. */
  readonly environmentPaths: ReadonlySet<string>;
}

export interface CompileResult {
  /** Null when there is at least one error. */
  readonly table: RoutingTable | null;
  readonly problems: readonly ConfigProblem[];
}

/** Provider keys and long random tokens; short words are not flagged. */
const SECRET_LOOKING = /^(sk-|sk_|hf_|gsk_|xai-|AIza)|^[A-Za-z0-9_\-.]{24,}$/;

export function compileConfig(config: Config, context: CompileContext): CompileResult {
  const problems: ConfigProblem[] = [];
  const backends = new Map<string, CompiledBackend>();
  for (const [name, backend] of Object.entries(config.backends)) {
    backends.set(name, compileBackend(name, backend, config, context, problems));
  }
  const routes = new Map<string, CompiledRoute>();
  for (const [name, route] of Object.entries(config.routes)) {
    routes.set(name, compileRoute(name, route, config, backends, problems));
  }
  problems.push(...serverWarnings(config, context));
  const targetsByStateKey = groupByStateKey(routes, problems);
  if (problems.some((problem) => problem.severity === 'error')) return { table: null, problems };

  const table: RoutingTable = {
    server: Object.freeze({
      host: config.server.host,
      port: config.server.port,
      apiKeys: Object.freeze(config.server.api_keys.filter((key) => key !== '')),
      adminKey: config.server.admin_key,
      maxBodyBytes: config.server.max_body_bytes,
      maxJsonDepth: config.server.max_json_depth,
      shutdownGraceMs: config.server.shutdown_grace_ms,
    }),
    state: Object.freeze({ redisUrl: config.state.redis_url, mode: config.state.mode, keyPrefix: config.state.key_prefix }),
    backends,
    routes,
    routeNames: Object.freeze([...routes.keys()].sort()),
    targetsByStateKey,
  };
  return { table: Object.freeze(table), problems };
}

function compileBackend(
  name: string,
  backend: BackendConfig,
  config: Config,
  context: CompileContext,
  problems: ConfigProblem[],
): CompiledBackend {
  const path: ConfigPath = ['backends', name];
  problems.push(...apiKeyWarnings(path, backend, context));
  const url = new URL(backend.base_url);
  const basePath = url.pathname.replace(/\/+$/, '');
  const baseUrl = `${url.origin}${basePath}`;
  const probe = { ...config.defaults.probe, ...definedOnly(backend.probe) };
  const connectTimeoutMs = backend.timeouts?.connect_ms ?? config.defaults.timeouts.connect_ms;
  const extraHeaders = Object.freeze({ ...backend.headers });
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([backend.type, baseUrl, backend.api_key ?? '', extraHeaders, backend.max_connections, connectTimeoutMs]))
    .digest('hex');
  return Object.freeze({
    name,
    type: backend.type,
    baseUrl,
    origin: url.origin,
    basePath,
    serverRoot: `${url.origin}${basePath.replace(/\/v1$/, '')}`,
    apiKey: backend.api_key ?? '',
    extraHeaders,
    maxConnections: backend.max_connections,
    connectTimeoutMs,
    probe: Object.freeze(probe),
    verify: backend.verify ? Object.freeze({ ...backend.verify }) : null,
    fingerprint,
  });
}

function compileRoute(
  name: string,
  route: RouteConfig,
  config: Config,
  backends: ReadonlyMap<string, CompiledBackend>,
  problems: ConfigProblem[],
): CompiledRoute {
  const targets: CompiledTarget[] = [];
  const firstIndexOfBackend = new Map<string, number>();
  route.targets.forEach((target, index) => {
    const path: ConfigPath = ['routes', name, 'targets', index];
    const backend = backends.get(target.backend);
    if (!backend) {
      const known = [...backends.keys()].join(', ') || '(none)';
      problems.push(configError([...path, 'backend'], `unknown backend "${target.backend}"; defined backends: ${known}`));
      return;
    }
    const earlier = firstIndexOfBackend.get(target.backend);
    if (earlier !== undefined) {
      problems.push(
        configError(
          [...path, 'backend'],
          `backend "${target.backend}" is already target ${earlier} of this route; a route lists each backend at most once`,
        ),
      );
      return;
    }
    firstIndexOfBackend.set(target.backend, index);
    const floating = floatingRevisionReason(target.revision, backend.type);
    if (floating) problems.push(configError([...path, 'revision'], floating));
    if (target.revision === UNPINNED) {
      problems.push(
        configWarning([...path, 'revision'], 'revision "unpinned": this target is never verified and its output can change without notice'),
      );
    }
    const backendConfig = config.backends[target.backend];
    targets.push(
      Object.freeze({
        route: name,
        index,
        backend,
        model: target.model,
        revision: target.revision,
        pinned: target.revision !== UNPINNED,
        stateKey: `${backend.name}/${target.model}`,
        timeouts: Object.freeze({ ...config.defaults.timeouts, ...definedOnly(backendConfig?.timeouts), ...definedOnly(route.timeouts) }),
        retry: Object.freeze({ ...config.defaults.retry, ...definedOnly(backendConfig?.retry), ...definedOnly(route.retry) }),
        breaker: Object.freeze({ ...config.defaults.breaker, ...definedOnly(backendConfig?.breaker), ...definedOnly(route.breaker) }),
        onRevisionMismatch: route.on_revision_mismatch ?? backendConfig?.on_revision_mismatch ?? config.defaults.on_revision_mismatch,
      }),
    );
  });
  return Object.freeze({
    name,
    targets: Object.freeze(targets),
    totalMs: route.timeouts?.total_ms ?? config.defaults.timeouts.total_ms,
    targetByBackend: new Map(targets.map((target) => [target.backend.name, target])),
  });
}

/**
 * One backend model is one deployment, whichever routes list it: it has one
 * breaker and serves one revision, so routes must agree on both.
 */
function groupByStateKey(
  routes: ReadonlyMap<string, CompiledRoute>,
  problems: ConfigProblem[],
): ReadonlyMap<string, readonly CompiledTarget[]> {
  const groups = new Map<string, CompiledTarget[]>();
  for (const route of routes.values()) {
    for (const target of route.targets) {
      const group = groups.get(target.stateKey);
      if (!group) {
        groups.set(target.stateKey, [target]);
        continue;
      }
      const first = group[0];
      if (first && first.revision !== target.revision) {
        problems.push(
          configError(
            ['routes', target.route, 'targets', target.index, 'revision'],
            `${target.stateKey} is pinned to "${first.revision}" in route "${first.route}"; one deployment serves one revision`,
          ),
        );
      }
      if (first && JSON.stringify(first.breaker) !== JSON.stringify(target.breaker)) {
        problems.push(
          configError(
            ['routes', target.route, 'breaker'],
            `breaker settings for ${target.stateKey} differ from route "${first.route}"; one backend model has one breaker, so set them on backends.${target.backend.name}.breaker`,
          ),
        );
      }
      group.push(target);
    }
  }
  return groups;
}

function apiKeyWarnings(path: ConfigPath, backend: BackendConfig, context: CompileContext): ConfigProblem[] {
  const keyPath: ConfigPath = [...path, 'api_key'];
  if (backend.api_key === undefined) {
    return backend.type === 'openai'
      ? [configWarning(path, 'an openai backend without api_key will be refused by the API; set api_key: "${OPENAI_API_KEY}"')]
      : [];
  }
  const fromEnvironment = context.environmentPaths.has(formatPath(keyPath));
  if (backend.api_key === '') {
    return [configWarning(keyPath, 'api_key is empty; requests to this backend are sent without a key')];
  }
  if (!fromEnvironment && SECRET_LOOKING.test(backend.api_key)) {
    return [configWarning(keyPath, 'api_key looks like a literal secret; load it from the environment with ${VAR}')];
  }
  return [];
}

function serverWarnings(config: Config, context: CompileContext): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  if (config.server.api_keys.every((key) => key === '')) {
    warnings.push(configWarning(['server', 'api_keys'], 'no client api_keys set: any client can call the gateway'));
  }
  config.server.api_keys.forEach((key, index) => {
    if (key !== '' && !context.environmentPaths.has(formatPath(['server', 'api_keys', index]))) {
      warnings.push(configWarning(['server', 'api_keys', index], 'client key is written literally; load it from the environment with ${VAR}'));
    }
  });
  if (config.server.admin_key === '') {
    warnings.push(configWarning(['server', 'admin_key'], 'admin_key is empty: /admin/* answers only loopback clients'));
  } else if (!context.environmentPaths.has('server.admin_key')) {
    warnings.push(configWarning(['server', 'admin_key'], 'admin_key is written literally; load it from the environment with ${VAR}'));
  }
  return warnings;
}

/** Drops keys whose value is undefined, so a partial override never erases a default. */
function definedOnly<T extends object>(value: T | undefined): { [K in keyof T]?: Exclude<T[K], undefined> } {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
