/**
 * Ollama's `GET /api/tags` lists each local model with `digest`: the sha256 of
 * its registry manifest, which pins every weight blob. The strongest check there
 * is. The pin may be written with or without a `sha256:` prefix.
 */
import type { Verifier } from './types.js';
import { getJson, isRecord, mismatch, verified } from './types.js';

const bareDigest = (digest: string) => digest.replace(/^sha256:/, '').toLowerCase();

export const ollamaVerifier: Verifier = {
  healthUrl: (backend) => `${backend.serverRoot}/api/version`,
  async checkRevision(target, fetch) {
    const url = `${target.backend.serverRoot}/api/tags`;
    const answer = await getJson(fetch, url);
    if ('verdict' in answer) return answer.verdict;
    const body = answer.body;
    const models = isRecord(body) && Array.isArray(body['models']) ? body['models'].filter(isRecord) : [];
    const entry = models.find((model) => model['name'] === target.model || model['model'] === target.model);
    if (!entry) return mismatch(null, `${target.model} is not pulled on this server`);
    const digest = typeof entry['digest'] === 'string' ? entry['digest'] : '';
    return bareDigest(digest) === bareDigest(target.revision)
      ? verified(target.revision, '/api/tags digest equals the pin')
      : mismatch(`sha256:${bareDigest(digest)}`, `/api/tags digest of ${target.model} is ${digest}`);
  },
};
