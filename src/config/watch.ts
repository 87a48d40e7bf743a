/**
 * Hot reload (SPEC §6): on a change of the config file, or SIGHUP, the new file
 * is validated and, if valid, installed atomically; if not, its errors are
 * logged and kept for /admin/status, and the old table keeps serving.
 *
 * The directory is watched, not the file: editors that save by writing a new
 * file and renaming it over the old one (and Kubernetes ConfigMap symlink swaps)
 * replace the inode a file watch would follow. Every event just schedules a
 * re-read; the content hash decides whether anything changed.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Environment } from './interpolate.js';
import { parseConfigText } from './load.js';
import { configError, formatProblem, type ConfigProblem } from './problems.js';
import type { RoutingTable } from './table.js';

export interface ReloadTarget {
  /** The table now serving. */
  readonly table: RoutingTable;
  install(table: RoutingTable): void;
  reloaded(result: 'success' | 'error', problems: readonly ConfigProblem[]): void;
}

export interface ReloadLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Coalesces the burst of events one save produces. */
const DEBOUNCE_MS = 75;
/** fs.watch can miss events (network filesystems, some bind mounts): re-read this often anyway. */
const POLL_MS = 2000;

export class ConfigWatcher {
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private lastHash: string | null = null;
  private running: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(
    file: string,
    private readonly env: Environment,
    private readonly target: ReloadTarget,
    private readonly log: ReloadLog,
  ) {
    this.file = resolve(file);
  }

  async start(): Promise<void> {
    this.lastHash = await this.hashOfFile();
    const name = basename(this.file);
    try {
      this.watcher = watch(dirname(this.file), (_event, changed) => {
        if (changed === null || changed === name || changed.startsWith('..')) this.schedule();
      });
      this.watcher.on('error', () => this.schedule());
    } catch (error) {
      this.log.warn({ file: this.file, error: String(error) }, 'config file watch unavailable; polling only');
    }
    this.poll = setInterval(() => this.schedule(), POLL_MS);
    this.poll.unref();
  }

  /** Re-reads now (SIGHUP). Resolves once this reload attempt is done. */
  reload(reason = 'signal'): Promise<void> {
    return this.enqueue(reason, true);
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = null;
    this.debounce = null;
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      void this.enqueue('file change', false);
    }, DEBOUNCE_MS);
    this.debounce.unref();
  }

  /** One reload at a time; one that throws is a rejected edit, never a dead watcher or an unhandled rejection. */
  private enqueue(reason: string, force: boolean): Promise<void> {
    this.running = this.running
      .then(() => this.reloadNow(reason, force))
      .catch((error: unknown) => this.reject(reason, [configError([], `reload failed: ${error instanceof Error ? error.message : String(error)}`)]));
    return this.running;
  }

  private async reloadNow(reason: string, force: boolean): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      // Mid-rename the file can be briefly absent; the next event or poll retries.
      if (!force) return;
      return this.reject(reason, [configError([], `cannot read ${this.file}: ${String(error)}`)]);
    }
    const hash = sha256(text);
    if (!force && hash === this.lastHash) return;
    this.lastHash = hash;
    const { table, problems } = parseConfigText(text, this.env);
    if (!table) return this.reject(reason, problems);
    const restartOnly = restartOnlyChanges(this.target.table, table);
    this.target.install(table);
    this.target.reloaded('success', problems);
    this.log.info({ file: this.file, reason, routes: table.routeNames, warnings: problems.map(formatProblem) }, 'config reloaded');
    if (restartOnly.length > 0) {
      this.log.warn({ settings: restartOnly }, 'config reloaded, but these settings only take effect on restart');
    }
  }

  private reject(reason: string, problems: readonly ConfigProblem[]): void {
    this.target.reloaded('error', problems);
    this.log.error(
      { file: this.file, reason, problems: problems.filter((problem) => problem.severity === 'error').map(formatProblem) },
      'config reload rejected; the previous config keeps serving',
    );
  }

  private async hashOfFile(): Promise<string | null> {
    try {
      return sha256(await readFile(this.file, 'utf8'));
    } catch {
      return null;
    }
  }
}

/** Listening address and state store are bound at start. */
function restartOnlyChanges(before: RoutingTable, after: RoutingTable): string[] {
  const changed: string[] = [];
  if (before.server.host !== after.server.host) changed.push('server.host');
  if (before.server.port !== after.server.port) changed.push('server.port');
  if (before.state.redisUrl !== after.state.redisUrl) changed.push('state.redis_url');
  if (before.state.mode !== after.state.mode) changed.push('state.mode');
  if (before.state.keyPrefix !== after.state.keyPrefix) changed.push('state.key_prefix');
  return changed;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
