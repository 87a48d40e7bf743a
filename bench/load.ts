/**
 * The load generator: wrk when it is installed (C, microsecond latencies),
 * otherwise autocannon (Node, from bench/autocannon, installed on demand;
 * its latencies are whole milliseconds). Each run is one bounded child
 * process on the load core; it returns requests/s and p50/p99.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from './install.js';
import { numberAt } from './json-path.js';
import { spawnPinned, stderrTail, stopChild } from './processes.js';

/** Where a contender answers, and the headers it needs (Portkey's provider headers). */
export interface Endpoint {
  readonly port: number;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type GeneratorName = 'wrk' | 'autocannon';

export interface Generator {
  readonly name: GeneratorName;
  /** Whether its latencies resolve below a millisecond (otherwise c=1 latency comes from bench/client.ts). */
  readonly submillisecond: boolean;
  readonly command: string;
  readonly baseArgs: readonly string[];
}

export interface LoadResult {
  readonly generator: GeneratorName;
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Failed requests: connection errors, timeouts, non-2xx answers. */
  readonly errors: number;
}

const WRK_SCRIPT = fileURLToPath(new URL('./wrk.lua', import.meta.url));
const AUTOCANNON_DIR = fileURLToPath(new URL('./autocannon/', import.meta.url));
/** A response slower than this counts as an error rather than stalling the run. */
const REQUEST_TIMEOUT_S = 10;

export async function pickGenerator(wanted: GeneratorName | null): Promise<Generator> {
  const hasWrk = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  if (wanted !== 'autocannon' && hasWrk) return { name: 'wrk', submillisecond: true, command: 'wrk', baseArgs: ['-t1', `--timeout=${REQUEST_TIMEOUT_S}s`, '-s', WRK_SCRIPT] };
  if (wanted === 'wrk') throw new Error('--generator=wrk but wrk is not installed (apt-get install wrk)');
  const installed = await ensureInstalled(AUTOCANNON_DIR);
  if (!installed.ok) throw new Error(`neither wrk nor autocannon is available: ${installed.reason}`);
  return {
    name: 'autocannon',
    submillisecond: false,
    command: process.execPath,
    baseArgs: [`${AUTOCANNON_DIR}node_modules/autocannon/autocannon.js`, '-j', '-n', '-t', String(REQUEST_TIMEOUT_S), '-m', 'POST'],
  };
}

/** Runs `connections` closed-loop connections for `seconds` against `endpoint`. */
export async function runLoad(generator: Generator, core: number | null, endpoint: Endpoint, body: string, connections: number, seconds: number): Promise<LoadResult> {
  const url = `http://127.0.0.1:${endpoint.port}${endpoint.path}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...endpoint.headers };
  const args =
    generator.name === 'wrk'
      ? [...generator.baseArgs, `-c${connections}`, `-d${seconds}s`, url]
      : [...generator.baseArgs, '-c', String(connections), '-d', String(seconds), '-b', body, ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]), url];
  const env = { ...process.env, BENCH_BODY: body, BENCH_HEADERS: Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\n') };
  const child = spawnPinned(core, generator.command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const bound = setTimeout(() => void stopChild(child, 1000), (seconds + REQUEST_TIMEOUT_S + 10) * 1000);
  const code = await exited;
  clearTimeout(bound);
  if (code !== 0) throw new Error(`${generator.name} exited ${code}: ${stderrTail(child)}`);
  return generator.name === 'wrk' ? parseWrk(output, connections, seconds) : parseAutocannon(output, connections, seconds);
}

function parseWrk(output: string, connections: number, seconds: number): LoadResult {
  const line = output.split('\n').find((candidate) => candidate.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no summary: ${output.slice(-500)}`);
  const summary: unknown = JSON.parse(line.slice('BENCH_JSON '.length));
  const requests = numberAt(summary, 'requests');
  const errors = ['connect', 'read', 'write', 'status', 'timeout'].reduce((sum, kind) => sum + numberAt(summary, 'errors', kind), 0);
  return {
    generator: 'wrk',
    connections,
    seconds,
    requests,
    rps: (requests - numberAt(summary, 'errors', 'status')) / (numberAt(summary, 'durationUs') / 1e6),
    p50Ms: numberAt(summary, 'latencyUs', 'p50') / 1000,
    p99Ms: numberAt(summary, 'latencyUs', 'p99') / 1000,
    errors,
  };
}

function parseAutocannon(output: string, connections: number, seconds: number): LoadResult {
  const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
  if (!line) throw new Error(`autocannon printed no JSON: ${output.slice(-500)}`);
  const summary: unknown = JSON.parse(line);
  const requests = numberAt(summary, 'requests', 'total');
  const non2xx = numberAt(summary, 'non2xx');
  return {
    generator: 'autocannon',
    connections,
    seconds,
    requests,
    rps: (requests - non2xx) / numberAt(summary, 'duration'),
    p50Ms: numberAt(summary, 'latency', 'p50'),
    p99Ms: numberAt(summary, 'latency', 'p99'),
    errors: non2xx + numberAt(summary, 'errors') + numberAt(summary, 'timeouts'),
  };
}
