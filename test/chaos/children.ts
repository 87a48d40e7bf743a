/**
 * Every child process a chaos run starts (gateways, redis-servers) is tracked
 * here and SIGKILLed, by PID, when this process exits for any reason, so a
 * failed or interrupted run leaves nothing behind.
 */
export interface ChildHandle {
  /** Current PID, undefined once the child is known to be gone. */
  readonly pid: number | undefined;
  /** False once the child has exited (its PID may then belong to someone else). */
  readonly running?: boolean;
}

const tracked = new Set<ChildHandle>();
let installed = false;

export function trackChild(child: ChildHandle): void {
  tracked.add(child);
  if (installed) return;
  installed = true;
  process.on('exit', killTracked);
}

export function untrackChild(child: ChildHandle): void {
  tracked.delete(child);
}

export function killTracked(): void {
  for (const child of tracked) {
    const pid = child.pid;
    if (pid === undefined || child.running === false) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  tracked.clear();
}

/** For the `npm run chaos` entry point: Ctrl-C and SIGTERM also clean up. */
export function killChildrenOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killTracked();
      process.exit(130);
    });
  }
}
