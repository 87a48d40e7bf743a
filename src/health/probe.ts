/**
 * One probe of one backend: its health URL, then the revision of each of its
 * targets. A probe never sends a completion. Answers are shared within the
 * probe (vLLM's /v1/models serves every target of the backend), and each GET is
 * bounded by probe.timeout_ms.
 */
import type { CompiledBackend, CompiledTarget } from '../config/table.js';
import { probeGet } from '../upstream/client.js';
import { probeHeaders } from '../upstream/headers.js';
import { verifierFor } from '../verify/registry.js';
import type { ProbeAnswer, ProbeFetch, RevisionVerdict } from '../verify/types.js';
import { unverified } from '../verify/types.js';

export interface BackendProbe {
  readonly backend: string;
  readonly up: boolean;
  readonly checkedAt: number;
  readonly latencyMs: number;
  readonly error: string | null;
  /** One verdict per distinct deployment (state key) that the probe learned something about. */
  readonly revisions: ReadonlyMap<string, RevisionVerdict>;
}

export async function probeBackend(backend: CompiledBackend, targets: readonly CompiledTarget[]): Promise<BackendProbe> {
  const fetch = cachedFetch(backend);
  const verifier = verifierFor(backend);
  const started = performance.now();
  const checkedAt = Date.now();
  const revisions = new Map<string, RevisionVerdict>();
  const healthUrl = verifier.healthUrl(backend, targets);
  let error: string | null = null;
  try {
    const answer = await fetch(healthUrl);
    if (answer.status < 200 || answer.status >= 300) error = `GET ${healthUrl} answered ${answer.status}`;
  } catch (caught) {
    error = `GET ${healthUrl} failed: ${describe(caught)}`;
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  if (error !== null) return { backend: backend.name, up: false, checkedAt, latencyMs, error, revisions };

  for (const target of targets) {
    if (revisions.has(target.stateKey)) continue;
    const verdict = await checkRevision(target, fetch, verifier.checkRevision);
    if (verdict) revisions.set(target.stateKey, verdict);
  }
  return { backend: backend.name, up: true, checkedAt, latencyMs, error: null, revisions };
}

async function checkRevision(
  target: CompiledTarget,
  fetch: ProbeFetch,
  check: (target: CompiledTarget, fetch: ProbeFetch) => Promise<RevisionVerdict | null>,
): Promise<RevisionVerdict | null> {
  if (!target.pinned) return unverified('revision: unpinned');
  try {
    return await check(target, fetch);
  } catch (caught) {
    return unverified(`revision check failed: ${describe(caught)}`);
  }
}

/** Each URL is fetched at most once per probe. */
function cachedFetch(backend: CompiledBackend): ProbeFetch {
  const answers = new Map<string, Promise<ProbeAnswer>>();
  const headers = probeHeaders(backend);
  return (url) => {
    let answer = answers.get(url);
    if (!answer) {
      answer = probeGet(url, headers, backend.probe.timeout_ms);
      answers.set(url, answer);
    }
    return answer;
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? `${error.code}: ` : '';
    return `${code}${error.name === 'TimeoutError' ? 'timed out' : error.message}`;
  }
  return String(error);
}
