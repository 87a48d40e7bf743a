/**
 * Private redis-server processes for tests: each on a free loopback port,
 * without persistence, stopped by PID. Without redis-server on the machine the
 * Redis suites are skipped with a loud notice, unless PINROUTE_REQUIRE_REDIS=1
 * (set by .ci/run), which turns the skip into a failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const redisInstalled = hasCommand('redis-server') && hasCommand('redis-cli');
const redisRequired = process.env['PINROUTE_REQUIRE_REDIS'] === '1';

/** `describe` for suites that need a real Redis (see the module comment for the no-Redis rules). */
export function describeWithRedis(name: string, suite: () => void): void {
  if (redisInstalled) {
    describe(name, suite);
    return;
  }
  if (redisRequired) {
    describe(name, () => {
      it('needs redis-server (PINROUTE_REQUIRE_REDIS=1)', () => {
        throw new Error('redis-server/redis-cli not found; install them: apt-get install -y redis-server');
      });
    });
    return;
  }
  console.warn(
    `\n*** SKIPPING "${name}": redis-server is not installed. Install it (apt-get install -y redis-server) to run the Redis tests; CI (.ci/run) installs it and makes this a failure. ***\n`,
  );
  describe.skip(name, suite);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

export class RedisServer {
  private process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  static async start(options: { port?: number; args?: readonly string[] } = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort()), options.args ?? []);
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Kills the server (SIGKILL: an outage, not a shutdown) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.process = null;
  }

  /** Starts it again on the same port, empty (no persistence). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  private async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...this.extraArgs];
    this.process = spawn('redis-server', args, { stdio: 'ignore' });
    try {
      await waitForPing(this.port, 5000);
    } catch (error) {
      // A server that never answered must not outlive the test that started it.
      await this.kill();
      throw error;
    }
  }
}

/** A local 3-master Redis Cluster (no replicas) on loopback ports. */
export class RedisCluster {
  private constructor(readonly nodes: readonly RedisServer[]) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const directory = mkdtempSync(join(tmpdir(), 'pinroute-cluster-'));
    const nodes: RedisServer[] = [];
    for (let index = 0; index < masters; index++) {
      const port = await freePort();
      nodes.push(
        await RedisServer.start({
          port,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', join(directory, `nodes-${port}.conf`), '--cluster-node-timeout', '2000', '--dir', directory],
        }),
      );
    }
    execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: 'ignore',
      timeout: 20_000,
    });
    const cluster = new RedisCluster(nodes);
    const started = Date.now();
    while (!cluster.healthy()) {
      if (Date.now() - started > 15_000) throw new Error('redis cluster did not become ok');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return cluster;
  }

  /** Seed URLs, comma-separated, as state.redis_url takes them in cluster mode. */
  get url(): string {
    return this.nodes.map((node) => node.url).join(',');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  private healthy(): boolean {
    return this.nodes.every((node) => {
      const info = execFileSync('redis-cli', ['-p', String(node.port), 'cluster', 'info'], { encoding: 'utf8', timeout: 5000 });
      return info.includes('cluster_state:ok');
    });
  }
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`redis-server on ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    // A password-protected server answers -NOAUTH: it is up all the same.
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}
