/**
 * Child processes of a bench run: spawned pinned to a core (taskset, when the
 * machine has it and two cores), tracked, and all killed when the run ends:
 * normally, on an error, or on Ctrl-C / SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { numberAt } from './json-path.js';

/** Which core each side runs on; null when pinning is impossible here. */
export interface Cores {
  readonly contender: number | null;
  readonly load: number | null;
  readonly note: string;
}

export function pickCores(): Cores {
  const cores = availableParallelism();
  const taskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!taskset) return { contender: null, load: null, note: 'taskset missing: nothing pinned' };
  if (cores < 2) return { contender: null, load: null, note: `${cores} core: nothing pinned` };
  return { contender: 0, load: 1, note: 'contender on core 0; load generator, fake upstream and orchestrator on core 1' };
}

/** Pins this (orchestrating) process, all its threads, to the load core. */
export function pinSelf(core: number | null): void {
  if (core === null) return;
  spawnSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
}

const children = new Set<ChildProcess>();
const stderrTails = new WeakMap<ChildProcess, string>();

/** The last few KB the child wrote to stderr (when its stderr is a pipe), for error messages. */
export function stderrTail(child: ChildProcess): string {
  return (stderrTails.get(child) ?? '').trim();
}

/** Spawns `command args` on `core` (through taskset, which execs: the pid is the program's). */
export function spawnPinned(core: number | null, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = core === null ? spawn(command, args, options) : spawn('taskset', ['-c', String(core), command, ...args], options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stderr?.on('data', (chunk: Buffer) => stderrTails.set(child, ((stderrTails.get(child) ?? '') + chunk.toString('utf8')).slice(-4000)));
  return child;
}

/** Waits for the child to end: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

let installed = false;

/** Kills every child when this process exits, whatever the reason. */
export function killChildrenOnExit(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** Resolves with the first stdout line of `child` (within `timeoutMs`). */
export function firstLine(child: ChildProcess, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => done(new Error(`${what}: no output within ${timeoutMs} ms. ${stderrTail(child)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline !== -1) done(null, buffered.slice(0, newline));
    };
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before it was ready. ${stderrTail(child)}`));
    function done(error: Error | null, line = ''): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(line);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Waits for the `{"port":N}` line that bench/upstream.ts and bench/floor.ts print once listening. */
export async function portFromChild(child: ChildProcess, what: string): Promise<number> {
  return numberAt(JSON.parse(await firstLine(child, 15_000, what)), 'port');
}
