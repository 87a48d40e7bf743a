/**
 * TGI reports the hub commit it resolved at start in `GET /info` → `model_sha`:
 * the strongest check after Ollama's digest. `null` (a local directory, offline
 * hub) means it cannot be checked: unverified, not a match.
 */
import type { Verifier } from './types.js';
import { getJson, isRecord, mismatch, unverified, verified } from './types.js';

export const tgiVerifier: Verifier = {
  healthUrl: (backend) => `${backend.serverRoot}/health`,
  async checkRevision(target, fetch) {
    const url = `${target.backend.serverRoot}/info`;
    const answer = await getJson(fetch, url);
    if ('verdict' in answer) return answer.verdict;
    const body = answer.body;
    const sha = isRecord(body) ? body['model_sha'] : undefined;
    if (typeof sha !== 'string' || sha === '') {
      const modelId = isRecord(body) && typeof body['model_id'] === 'string' ? body['model_id'] : 'unknown';
      return unverified(`/info has no model_sha (model_id ${modelId}: a local directory or offline hub)`);
    }
    return sha === target.revision ? verified(sha, '/info model_sha equals the pin') : mismatch(sha, `/info model_sha is ${sha}`);
  },
};
