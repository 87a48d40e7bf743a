/**
 * What sits in front of a real fleet: a round-robin load balancer over the
 * replicas in rotation, as a `fetch` for the OpenAI SDK. Like nginx's
 * `proxy_next_upstream` for non-idempotent requests, it re-sends a request to
 * another replica only when the first one provably did nothing with it:
 * - the connection was refused (nothing was sent);
 * - the replica answered 503 `shutting_down` (the gateway's own "not started");
 * - the replica is known to be draining and closed the socket before any
 *   response byte (the keep-alive race every graceful shutdown has).
 * Everything else reaches the client as is. Every re-send is counted.
 */
export interface Replica {
  readonly name: string;
  readonly url: string;
}

export interface RerouteCounts {
  refused: number;
  shuttingDown: number;
  drainingSocketClosed: number;
}

interface Member {
  readonly replica: Replica;
  inRotation: boolean;
  draining: boolean;
}

export class Balancer {
  private readonly members = new Map<string, Member>();
  private next = 0;
  readonly rerouted: RerouteCounts = { refused: 0, shuttingDown: 0, drainingSocketClosed: 0 };

  add(replica: Replica): void {
    this.members.set(replica.name, { replica, inRotation: true, draining: false });
  }

  /** Out of rotation and marked draining: what a balancer does when a replica is being terminated. */
  drain(name: string): void {
    const member = this.members.get(name);
    if (!member) return;
    member.inRotation = false;
    member.draining = true;
  }

  replace(replica: Replica): void {
    this.add(replica);
  }

  get(name: string): Replica | undefined {
    return this.members.get(name)?.replica;
  }

  /** Next replica in rotation, skipping those already tried for this request. */
  pick(tried: ReadonlySet<string>): Replica | null {
    const candidates = [...this.members.values()].filter((member) => member.inRotation && !tried.has(member.replica.name));
    if (candidates.length === 0) return null;
    this.next = (this.next + 1) % 1_000_000;
    return (candidates[this.next % candidates.length] as Member).replica;
  }

  isDraining(name: string): boolean {
    return this.members.get(name)?.draining ?? false;
  }

  get size(): number {
    return this.members.size;
  }
}

/** Why fetch() failed, from undici's error cause. */
export function fetchFailureCode(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause && typeof cause === 'object' && 'code' in cause) return String(cause.code);
  if (error instanceof Error && error.name === 'AbortError') return 'ABORTED';
  return error instanceof Error ? error.name : 'unknown';
}
