/**
 * Starts a real gateway in this process on a free loopback port, with its config
 * written to a temp file and its log lines captured, plus an official `openai`
 * SDK client pointed at it (retries off, so upstream hit counts are exact).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { createLogger } from '../../src/observe/logger.js';
import { LogSink } from './log-sink.js';

export interface TestGateway {
  readonly running: RunningGateway;
  readonly url: string;
  readonly configFile: string;
  readonly logs: LogSink;
  client(options?: { apiKey?: string; headers?: Record<string, string>; timeoutMs?: number }): OpenAI;
  stop(): Promise<void>;
}

export async function writeConfig(config: string | object, directory?: string): Promise<string> {
  const folder = directory ?? (await mkdtemp(join(tmpdir(), 'pinroute-test-')));
  const file = join(folder, 'routes.config.yaml');
  await writeFile(file, typeof config === 'string' ? config : stringify(config));
  return file;
}

export async function startTestGateway(config: string | object, env: Record<string, string> = {}): Promise<TestGateway> {
  const configFile = await writeConfig(config);
  const logs = new LogSink();
  const logger = createLogger({ level: 'debug', destination: logs });
  const running = await startGateway({ configFile, env, port: 0, host: '127.0.0.1', logger });
  return {
    running,
    url: running.url,
    configFile,
    logs,
    client: (options = {}) =>
      new OpenAI({
        baseURL: `${running.url}/v1`,
        apiKey: options.apiKey ?? 'test-client-key',
        maxRetries: 0,
        timeout: options.timeoutMs ?? 20_000,
        ...(options.headers ? { defaultHeaders: options.headers } : {}),
      }),
    stop: () => running.stop(2000),
  };
}

/** A config with fast test timings; `backends` and `routes` as in routes.config.yaml. */
export function testConfig(parts: { backends: object; routes: object; defaults?: object; server?: object; state?: object }): object {
  return {
    server: { host: '127.0.0.1', port: 0, api_keys: [], ...parts.server },
    ...(parts.state ? { state: parts.state } : {}),
    defaults: {
      timeouts: { connect_ms: 1000, first_byte_ms: 2000, idle_ms: 2000, total_ms: 10_000 },
      retry: { attempts: 0, backoff_ms: 10, max_retry_after_ms: 1000 },
      breaker: { error_threshold_pct: 50, min_requests: 100, window_ms: 10_000, reset_ms: 30_000 },
      ...parts.defaults,
    },
    backends: parts.backends,
    routes: parts.routes,
  };
}
