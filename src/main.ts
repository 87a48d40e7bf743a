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
import { formatProblem } from './config/problems.js';
import { Gateway } from './gateway.js';
import { HealthRegistry } from './health/registry.js';
import { createGatewayServer } from './http/server.js';
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
  gateway = new Gateway(table, options.configFile, registry, pools, store, metrics, logger);

  const server = createGatewayServer(gateway, packageVersion());
  const port = options.port ?? portFromEnvironment(options.env) ?? table.server.port;
  const host = options.host ?? options.env['HOST'] ?? table.server.host;
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url, routes: table.routeNames, stateStore: store.connectivity().location }, 'pinroute listening');

  const running = gateway;
  return {
    gateway: running,
    server,
    url: url.replace('0.0.0.0', '127.0.0.1'),
    port: address.port,
    stop: (graceMs = table.server.shutdownGraceMs) => stopGateway(running, server, graceMs),
  };
}

async function stopGateway(gateway: Gateway, server: Server, graceMs: number): Promise<void> {
  gateway.draining = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections become idle as their last request finishes; close them as they do.
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
  const graceOver = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  if ((await Promise.race([closed, graceOver])) === 'timeout') {
    gateway.logger.warn({ graceMs }, 'grace period over: closing remaining connections');
    server.closeAllConnections();
    await gateway.pools.destroy();
  }
  clearInterval(idleSweep);
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
