/**
 * OpenAI: the pin is a dated snapshot. The API lists it (`GET /models/{model}`),
 * but only an answer proves which snapshot served, so the revision is checked
 * passively on every response (verify/passive.ts); the probe checks existence.
 * A pinned snapshot the API no longer has is a mismatch: it was retired.
 */
import type { Verifier } from './types.js';
import { failedAnswer, mismatch } from './types.js';

const modelUrl = (baseUrl: string, model: string) => `${baseUrl}/models/${encodeURIComponent(model)}`;

export const openaiVerifier: Verifier = {
  healthUrl: (backend, targets) => modelUrl(backend.baseUrl, targets[0]?.model ?? ''),
  async checkRevision(target, fetch) {
    const url = modelUrl(target.backend.baseUrl, target.model);
    const answer = await fetch(url);
    if (answer.status === 404) return mismatch(null, `the API does not list ${target.model} (retired or renamed?)`);
    if (answer.status !== 200) return failedAnswer(url, answer);
    return null; // it exists; which snapshot answers is checked on every answer
  },
};
