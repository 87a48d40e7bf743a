/**
 * How a backend type is probed (SPEC §3): which URL says it is up, and how to
 * read the revision it serves. One small module per type implements this.
 */
import type { CompiledBackend, CompiledTarget } from '../config/table.js';
import type { RevisionStatus } from '../state/store.js';

export interface ProbeAnswer {
  readonly status: number;
  readonly body: string;
}

/** GET a URL (the probe's own timeout applies); rejects on network errors. */
export type ProbeFetch = (url: string) => Promise<ProbeAnswer>;

export interface RevisionVerdict {
  readonly status: RevisionStatus;
  /** What the backend says it serves (a sha, a digest, a path), when it says anything. */
  readonly observed: string | null;
  readonly detail: string;
}

export interface Verifier {
  /** The URL whose 2xx means "up". */
  healthUrl(backend: CompiledBackend, targets: readonly CompiledTarget[]): string;
  /**
   * Reads which revision `target` serves; null when the backend's metadata says
   * nothing about it (the answers do: verify/passive.ts). Never throws for a bad
   * answer, only for an unreachable one.
   */
  checkRevision(target: CompiledTarget, fetch: ProbeFetch): Promise<RevisionVerdict | null>;
}

export function verified(observed: string, detail: string): RevisionVerdict {
  return { status: 'verified', observed, detail };
}

export function mismatch(observed: string | null, detail: string): RevisionVerdict {
  return { status: 'mismatch', observed, detail };
}

export function unverified(detail: string, observed: string | null = null): RevisionVerdict {
  return { status: 'unverified', observed, detail };
}

/** The body as JSON, or undefined when it is not JSON. */
export function jsonBody(answer: ProbeAnswer): unknown {
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** GET `url` as JSON; a non-200 answer becomes the verdict to return. */
export async function getJson(fetch: ProbeFetch, url: string): Promise<{ readonly body: unknown } | { readonly verdict: RevisionVerdict }> {
  const answer = await fetch(url);
  return answer.status === 200 ? { body: jsonBody(answer) } : { verdict: failedAnswer(url, answer) };
}

/** A non-2xx answer to a revision request: unreachable endpoints are unverified, not mismatched. */
export function failedAnswer(url: string, answer: ProbeAnswer): RevisionVerdict {
  return unverified(`GET ${url} answered ${answer.status}`);
}
