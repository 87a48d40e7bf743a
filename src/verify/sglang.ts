/**
 * SGLang echoes its launch arguments in `GET /server_info` (older builds:
 * `/get_server_info`): `revision` (the operator's --revision) or a `model_path`
 * that contains the pin (a snapshot directory).
 */
import type { ProbeAnswer, Verifier } from './types.js';
import { failedAnswer, isRecord, jsonBody, mismatch, unverified, verified } from './types.js';

export const sglangVerifier: Verifier = {
  healthUrl: (backend) => `${backend.serverRoot}/health`,
  async checkRevision(target, fetch) {
    let url = `${target.backend.serverRoot}/server_info`;
    let answer: ProbeAnswer = await fetch(url);
    if (answer.status === 404) {
      url = `${target.backend.serverRoot}/get_server_info`;
      answer = await fetch(url);
    }
    if (answer.status !== 200) return failedAnswer(url, answer);
    const body = jsonBody(answer);
    const revision = isRecord(body) && typeof body['revision'] === 'string' ? body['revision'] : null;
    const modelPath = isRecord(body) && typeof body['model_path'] === 'string' ? body['model_path'] : null;
    if (revision === target.revision) return verified(revision, 'server_info revision equals the pin');
    if (modelPath?.includes(target.revision)) return verified(target.revision, `server_info model_path ${modelPath} carries the pin`);
    if (revision === null && modelPath === null) return unverified('server_info has neither revision nor model_path');
    const observed = revision ?? modelPath;
    return mismatch(observed, `server_info revision is ${revision ?? 'unset'}, model_path ${modelPath ?? 'unset'}`);
  },
};
