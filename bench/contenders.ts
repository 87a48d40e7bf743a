/**
 * The contenders: how each is started (pinned to the contender core), how
 * long it takes from spawn to its first 200, where it answers, and which
 * process is measured. "direct" is the fake upstream itself.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { postOnce } from './client.js';
import type { Endpoint } from './load.js';
import { MODEL, PACED_MODEL, requestBody } from './payloads.js';
import { portFromChild, spawnPinned, stderrTail, stopChild } from './processes.js';

export const CONTENDER_NAMES = ['direct', 'pinroute', 'pinroute-failover', 'floor', 'portkey'] as const;
/** 'pinroute-b': pinroute from another checkout (--pinroute-b=DIR), for A/B-testing a change in one run. */
export type ContenderName = (typeof CONTENDER_NAMES)[number] | 'pinroute-b';

export const DESCRIPTIONS: Readonly<Record<ContenderName, string>> = {
  direct: 'the fake upstream itself (the physical limit)',
  pinroute: 'pinroute, route with one target',
  'pinroute-failover': 'pinroute, route whose first target is dead (breaker open), second serves',
  'pinroute-b': 'pinroute from --pinroute-b=DIR, route with one target',
  floor: 'hono + undici pass-through, node streams (bench/floor.ts)',
  portkey: 'Portkey AI gateway (bench/portkey, provider openai, custom host)',
};

export interface Contender {
  readonly name: ContenderName;
  /** The process whose CPU time and RSS are measured (the upstream's for "direct"). */
  readonly pid: number;
  readonly endpoint: Endpoint;
  /** The `model` each request names: plain answers and the paced stream. */
  readonly models: { readonly json: string; readonly paced: string };
  /** Spawn to first 200, one entry per start; empty for "direct". */
  readonly startupMs: readonly number[];
  readonly stop: () => Promise<void>;
}

export interface Upstream {
  readonly port: number;
  readonly pid: number;
}

export interface StartContext {
  readonly core: number | null;
  readonly upstream: Upstream;
  readonly workDir: string;
  readonly startupSamples: number;
  /** The pinroute checkout to run (its bin/ and built dist/); default this repository. */
  readonly pinrouteDir: string;
  /** The checkout 'pinroute-b' runs, when asked for. */
  readonly pinrouteBDir?: string;
  /** Extra node flags for pinroute (the profiler's --cpu-prof). */
  readonly pinrouteNodeFlags?: readonly string[];
}

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PORTKEY_DIR = fileURLToPath(new URL('./portkey/', import.meta.url));
const CHAT_PATH = '/v1/chat/completions';
const STARTUP_TIMEOUT_MS = 30_000;

export async function startContender(name: ContenderName, context: StartContext): Promise<Contender> {
  switch (name) {
    case 'direct':
      return { name, pid: context.upstream.pid, endpoint: { port: context.upstream.port, path: CHAT_PATH, headers: {} }, models: { json: MODEL, paced: PACED_MODEL }, startupMs: [], stop: async () => {} };
    case 'pinroute':
    case 'pinroute-failover':
      return startPinroute(name, context);
    case 'pinroute-b':
      if (context.pinrouteBDir === undefined) throw new Error('pinroute-b needs --pinroute-b=DIR');
      return startPinroute(name, { ...context, pinrouteDir: context.pinrouteBDir });
    case 'floor':
      return startFloor(context);
    case 'portkey':
      return startPortkey(context);
  }
}

/** A port nothing listens on right now (for the dead target, and for contenders that need a port up front). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/**
 * One config for both pinroute contenders: "bench" has one target; "failover"
 * puts a dead port first. The breaker's reset_ms outlasts the run, so once
 * warmed up the dead target stays open (skipped without a request).
 */
export async function writePinrouteConfig(workDir: string, upstreamPort: number): Promise<string> {
  const file = join(workDir, 'routes.config.yaml');
  const target = (backend: string, model: string) => ({ backend, model, revision: 'rev-1' });
  const config = {
    server: { host: '127.0.0.1', port: 8080 },
    defaults: { breaker: { reset_ms: 3_600_000 } },
    backends: {
      live: { type: 'openai-compatible', base_url: `http://127.0.0.1:${upstreamPort}/v1` },
      dead: { type: 'openai-compatible', base_url: `http://127.0.0.1:${await freePort()}/v1` },
    },
    routes: {
      bench: [target('live', MODEL)],
      'bench-paced': [target('live', PACED_MODEL)],
      failover: [target('dead', MODEL), target('live', MODEL)],
      'failover-paced': [target('dead', PACED_MODEL), target('live', PACED_MODEL)],
    },
  };
  await writeFile(file, stringify(config));
  return file;
}

async function startPinroute(name: 'pinroute' | 'pinroute-failover' | 'pinroute-b', context: StartContext): Promise<Contender> {
  const config = await writePinrouteConfig(context.workDir, context.upstream.port);
  const port = await freePort();
  const endpoint: Endpoint = { port, path: CHAT_PATH, headers: {} };
  const models = name === 'pinroute-failover' ? { json: 'failover', paced: 'failover-paced' } : { json: 'bench', paced: 'bench-paced' };
  // Default log level (info): one JSON line per request is part of pinroute's real work; stdout goes to /dev/null.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['REDIS_URL', 'LOG_LEVEL', 'PINROUTE_CONFIG', 'PORT', 'HOST']) delete env[key];
  const args = [...(context.pinrouteNodeFlags ?? []), 'bin/pinroute.js', 'serve', '--config', config, '--port', String(port), '--host', '127.0.0.1'];
  const launch = () => spawnPinned(context.core, process.execPath, args, { cwd: context.pinrouteDir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  return measuredStart(name, launch, endpoint, models, context.startupSamples);
}

async function startFloor(context: StartContext): Promise<Contender> {
  const port = await freePort();
  const endpoint: Endpoint = { port, path: CHAT_PATH, headers: {} };
  const launch = () => spawnPinned(context.core, process.execPath, ['--import', 'tsx', 'bench/floor.ts', `http://127.0.0.1:${context.upstream.port}`, String(port)], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  return measuredStart('floor', launch, endpoint, { json: MODEL, paced: PACED_MODEL }, context.startupSamples);
}

async function startPortkey(context: StartContext): Promise<Contender> {
  const port = await freePort();
  const endpoint: Endpoint = {
    port,
    path: CHAT_PATH,
    headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `http://127.0.0.1:${context.upstream.port}/v1`, authorization: 'Bearer bench' },
  };
  const loopback = pathToFileURL(join(PORTKEY_DIR, 'loopback.mjs')).href;
  const script = join(PORTKEY_DIR, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  const launch = () => spawnPinned(context.core, process.execPath, ['--import', loopback, script, `--port=${port}`, '--headless'], { cwd: PORTKEY_DIR, stdio: ['ignore', 'ignore', 'pipe'] });
  return measuredStart('portkey', launch, endpoint, { json: MODEL, paced: PACED_MODEL }, context.startupSamples);
}

/** Starts `samples` times (keeping the last), timing each from spawn to the first 200. */
async function measuredStart(
  name: ContenderName,
  launch: () => ChildProcess,
  endpoint: Endpoint,
  models: Contender['models'],
  samples: number,
): Promise<Contender> {
  const startupMs: number[] = [];
  const body = requestBody(models.json, false);
  for (let sample = 0; ; sample++) {
    const spawnedAt = performance.now();
    const child = launch();
    try {
      await firstOk(child, endpoint, body, name);
    } catch (error) {
      await stopChild(child, 500);
      throw error;
    }
    startupMs.push(performance.now() - spawnedAt);
    if (sample + 1 >= samples) {
      if (child.pid === undefined) throw new Error(`${name}: no pid`);
      return { name, pid: child.pid, endpoint, models, startupMs, stop: () => stopChild(child) };
    }
    await stopChild(child);
  }
}

async function firstOk(child: ChildProcess, endpoint: Endpoint, body: string, name: string): Promise<void> {
  const deadline = performance.now() + STARTUP_TIMEOUT_MS;
  let last = '';
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited during startup: ${stderrTail(child)}`);
    try {
      const answer = await postOnce(endpoint, body, 2000);
      if (answer.status === 200) return;
      last = `status ${answer.status}: ${answer.body.slice(0, 300)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${name}: no 200 within ${STARTUP_TIMEOUT_MS} ms (last: ${last}) ${stderrTail(child)}`);
}

/** Starts the fake upstream on the load core. */
export async function startUpstream(core: number | null): Promise<Upstream & { child: ChildProcess }> {
  const child = spawnPinned(core, process.execPath, ['--import', 'tsx', 'bench/upstream.ts', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await portFromChild(child, 'fake upstream');
  if (child.pid === undefined) throw new Error('fake upstream: no pid');
  return { port, pid: child.pid, child };
}
