/**
 * A gateway as its own OS process, started the way users start it
 * (`node bin/pinroute.js serve`), for fleet, signal and outage tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { freePort } from './redis.js';

const BIN = fileURLToPath(new URL('../../bin/pinroute.js', import.meta.url));

export interface GatewayProcessOptions {
  /** Which output lines to keep in `output` (default: all); long runs drop per-request lines. */
  readonly keepLine?: (line: string) => boolean;
}

export class GatewayProcess {
  readonly output: string[] = [];
  private exitCode: number | null = null;
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    keepLine: (line: string) => boolean,
  ) {
    // Lines can straddle chunks: keep the unfinished tail until its newline arrives.
    const collect = (stream: NodeJS.ReadableStream | null) => {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        const lines = (pending + text).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line && keepLine(line)) this.output.push(line);
      });
      stream?.on('end', () => {
        if (pending && keepLine(pending)) this.output.push(pending);
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve((this.exitCode = code))));
  }

  static async start(configFile: string, env: Record<string, string> = {}, options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile, '--port', String(port), '--host', '127.0.0.1'], {
      env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gateway = new GatewayProcess(child, port, options.keepLine ?? (() => true));
    const started = Date.now();
    while (!(await gateway.ready())) {
      if (gateway.exitCode !== null || Date.now() - started > 15_000) {
        throw new Error(`gateway did not start (exit ${gateway.exitCode}):\n${gateway.output.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return gateway;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exitCode === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  client(): OpenAI {
    return new OpenAI({ baseURL: `${this.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 20_000 });
  }

  async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  }

  /** Parsed JSON log lines with the given msg. */
  logs(message: string): Record<string, unknown>[] {
    return this.output.flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        return parsed['msg'] === message ? [parsed] : [];
      } catch {
        return [];
      }
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves with the exit code (null when killed by a signal). */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.exitCode !== null || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timeout = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timeout);
  }
}
