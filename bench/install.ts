/**
 * The bench's own npm packages (bench/portkey, bench/autocannon): each pinned
 * by its package-lock.json and installed with `npm ci` the first time it is
 * needed, never at `npm ci` of pinroute itself.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const INSTALL_TIMEOUT_MS = 5 * 60_000;

/** Installs `dir`'s locked dependencies unless they are there; resolves false (with a reason) if that fails. */
export async function ensureInstalled(dir: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  // npm writes node_modules/.package-lock.json last, so its presence means a finished install.
  if (existsSync(join(dir, 'node_modules', '.package-lock.json'))) return { ok: true };
  process.stderr.write(`bench: installing ${dir} (npm ci, once)\n`);
  return new Promise((resolve) => {
    const child = spawn('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.once('error', (error) => resolve({ ok: false, reason: error.message }));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, reason: `npm ci exited ${code}: ${stderr.trim()}` });
    });
  });
}
