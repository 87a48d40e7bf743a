/**
 * A `verify: { path, pointer, match }` block: GET the path, read the value at the
 * JSON pointer (RFC 6901; "{model}" in the pointer is the target's model), and
 * compare it with the pin. Used by `openai-compatible` backends, and by any
 * backend that overrides its type's check.
 */
import type { CompiledBackend } from '../config/table.js';
import type { VerifyRule } from '../config/schema.js';
import { resolvePointer } from './json-pointer.js';
import type { Verifier } from './types.js';
import { getJson, mismatch, unverified, verified } from './types.js';

function verifyUrl(backend: CompiledBackend, path: string): string {
  return path.startsWith('/') ? `${backend.serverRoot}${path}` : `${backend.baseUrl}/${path}`;
}

export function customVerifier(rule: VerifyRule, healthUrl: Verifier['healthUrl']): Verifier {
  return {
    healthUrl,
    async checkRevision(target, fetch) {
      const url = verifyUrl(target.backend, rule.path.replaceAll('{model}', encodeURIComponent(target.model)));
      const answer = await getJson(fetch, url);
      if ('verdict' in answer) return answer.verdict;
      const pointer = rule.pointer.replaceAll('{model}', target.model.replaceAll('~', '~0').replaceAll('/', '~1'));
      const value = resolvePointer(answer.body, pointer);
      if (value === undefined || value === null) return unverified(`nothing at ${pointer} in GET ${url}`);
      const observed = typeof value === 'string' ? value : JSON.stringify(value);
      const matches = rule.match === 'contains' ? observed.includes(target.revision) : observed === target.revision;
      return matches
        ? verified(target.revision, `${pointer} ${rule.match} the pin`)
        : mismatch(observed, `${pointer} is ${observed}, which does not ${rule.match === 'contains' ? 'contain' : 'equal'} the pin`);
    },
  };
}

/** openai-compatible without a verify block: reachable, but nothing to check. */
export const listingOnlyVerifier: Verifier = {
  healthUrl: (backend) => `${backend.baseUrl}/models`,
  async checkRevision() {
    return unverified('openai-compatible backend without a verify: block exposes no revision');
  },
};
