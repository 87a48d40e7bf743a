/**
 * llama.cpp's server exposes no hash; `GET /props` → `model_path` (the -m file)
 * is checkable when the file name or directory carries the pin (e.g. a digest).
 * `/health` answers 503 while the model loads: down until it is ready.
 */
import type { Verifier } from './types.js';
import { getJson, isRecord, mismatch, unverified, verified } from './types.js';

export const llamacppVerifier: Verifier = {
  healthUrl: (backend) => `${backend.serverRoot}/health`,
  async checkRevision(target, fetch) {
    const url = `${target.backend.serverRoot}/props`;
    const answer = await getJson(fetch, url);
    if ('verdict' in answer) return answer.verdict;
    const body = answer.body;
    const modelPath = isRecord(body) && typeof body['model_path'] === 'string' ? body['model_path'] : null;
    if (modelPath === null) return unverified('/props has no model_path');
    return modelPath.includes(target.revision)
      ? verified(target.revision, `/props model_path ${modelPath} carries the pin`)
      : mismatch(modelPath, `/props model_path ${modelPath} does not carry the pin`);
  },
};
