/**
 * Composition root: environment → config → logger → state → health → upstream →
 * http → listen. `startGateway` is what `pinroute serve` runs, and what tests
 * start in-process; `stop` drains in-flight requests and streams first.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Environment } from './config/interpolate.js';
import { loadConfigFile } from './config/load.js';
import { ConfigWatcher } from './config/watch.js';
import { formatProblem } from './config/problems.js';
import { Gateway } from './gateway.js';
import { ProbeScheduler } from './health/probe-scheduler.js';
import { HealthRegistry } from './health/registry.js';
import { createGatewayServer, type InflightRequests } from './http/server.js';
import { createLogger, type Logger } from './observe/logger.js';
import { Metrics } from './observe/metrics.js';
import { openStateStore } from './state/open.js';
import { UpstreamPools } from './upstream/client.js';
import { packageVersion } from './version.js';

export interface StartOptions {
  readonly configFile: string;
  readonly env: Environment;
  /** CLI flags win over PORT/HOST in the environment, which win over the file. */
  readonly port?: number;
  readonly host?: string;
  readonly logger?: Logger;
}

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly server: Server;
  readonly url: string;
  readonly port: number;
  /** Re-reads the config file now (what SIGHUP does). */
  reload(): Promise<void>;
  /** Stops accepting, lets in-flight work finish within the grace period, then closes everything. */
  stop(graceMs?: number): Promise<void>;
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger({ level: options.env['LOG_LEVEL'] ?? 'info' });
  const { table, warnings } = await loadConfigFile(options.configFile, options.env);
  for (const warning of warnings) logger.warn({ problem: formatProblem(warning) }, 'config warning');

  const store = await openStateStore(table.state, logger);
  let gateway: Gateway | null = null;
  const metrics = new Metrics(() => (gateway ? { table: gateway.table, registry: gateway.registry } : null));
  const registry = new HealthRegistry(store, logger, {
    breakerStateChanged: (state) => metrics.breakerChanged(state.backend, state.model, state.breaker.state),
    revisionChanged: (state) => metrics.revisionChanged(state.backend, state.model),
    storeConnectivityChanged: (connectivity) => metrics.storeConnectivity(connectivity),
  });
  metrics.storeConnectivity(store.connectivity());
  const pools = new UpstreamPools();
  const probes = new ProbeScheduler(registry, store, logger);
  gateway = new Gateway(table, options.configFile, registry, probes, pools, store, metrics, logger);

  const { server, inflight } = createGatewayServer(gateway, packageVersion());
  const port = options.port ?? portFromEnvironment(options.env) ?? table.server.port;
  const host = options.host ?? options.env['HOST'] ?? table.server.host;
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url, routes: table.routeNames, stateStore: store.connectivity().location }, 'pinroute listening');

  const running = gateway;
  const watcher = new ConfigWatcher(options.configFile, options.env, {
    get table() {
      return running.table;
    },
    install: (next) => running.install(next),
    reloaded: (result, problems) => {
      metrics.configReloaded(result);
      running.lastReload = { at: Date.now(), result, problems };
    },
  }, logger);
  await watcher.start();

  return {
    gateway: running,
    server,
    url: url.replace('0.0.0.0', '127.0.0.1'),
    port: address.port,
    reload: () => watcher.reload(),
    stop: (graceMs = running.table.server.shutdownGraceMs) => {
      watcher.stop();
      return stopGateway(running, server, inflight, graceMs);
    },
  };
}

async function stopGateway(gateway: Gateway, server: Server, inflight: InflightRequests, graceMs: number): Promise<void> {
  gateway.draining = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let graceTimer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    graceTimer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const drained = await Promise.race([inflight.settled(), graceOver]);
  clearTimeout(graceTimer);
  if (drained === 'timeout') {
    gateway.logger.warn({ graceMs, inflight: inflight.size }, 'grace period over: closing remaining requests');
    await gateway.pools.destroy();
  }
  // Nothing is in flight any more: whatever connections remain are idle keep-alives.
  server.closeAllConnections();
  await closed;
  gateway.probes.stop();
  await gateway.pools.close();
  gateway.registry.dispose();
  await gateway.store.close();
  gateway.logger.info({}, 'pinroute stopped');
  gateway.logger.flush();
}

function portFromEnvironment(env: Environment): number | undefined {
  const value = env['PORT'];
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  return Number.isInteger(port) && port >= 0 && port <= 65_535 ? port : undefined;
}
