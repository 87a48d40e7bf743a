/**
 * vLLM exposes no revision of its own. The convention that makes it checkable:
 * launch with `--served-model-name <name>@<sha>` and/or `--model
 * <hf-cache>/snapshots/<sha>`; then `GET /v1/models` lists an entry whose `id` is
 * the target's model and whose `id` or `root` carries the pin.
 */
import type { Verifier } from './types.js';
import { getJson, isRecord, mismatch, unverified, verified } from './types.js';

export const vllmVerifier: Verifier = {
  healthUrl: (backend) => `${backend.serverRoot}/health`,
  async checkRevision(target, fetch) {
    const url = `${target.backend.baseUrl}/models`;
    const answer = await getJson(fetch, url);
    if ('verdict' in answer) return answer.verdict;
    const body = answer.body;
    const entries = isRecord(body) && Array.isArray(body['data']) ? body['data'].filter(isRecord) : [];
    const entry = entries.find((candidate) => candidate['id'] === target.model);
    if (!entry) {
      const served = entries.map((candidate) => String(candidate['id'])).join(', ') || 'nothing';
      return mismatch(served, `no served model named ${target.model} (serves: ${served})`);
    }
    const root = typeof entry['root'] === 'string' ? entry['root'] : '';
    if (target.model.includes(target.revision) || root.includes(target.revision)) {
      return verified(target.revision, `served model ${target.model} (root ${root || '-'}) carries the pin`);
    }
    if (root === '') return unverified(`served model ${target.model} has no root to check`);
    return mismatch(root, `neither the served name nor its root (${root}) carries the pin`);
  },
};
