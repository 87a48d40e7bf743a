/** The verifier for a backend: its `verify:` block when it has one, else its type's. */
import type { CompiledBackend } from '../config/table.js';
import type { BackendType } from '../config/schema.js';
import { customVerifier, listingOnlyVerifier } from './custom.js';
import { llamacppVerifier } from './llamacpp.js';
import { ollamaVerifier } from './ollama.js';
import { openaiVerifier } from './openai.js';
import { sglangVerifier } from './sglang.js';
import { tgiVerifier } from './tgi.js';
import type { Verifier } from './types.js';
import { vllmVerifier } from './vllm.js';

const BY_TYPE: Record<BackendType, Verifier> = {
  openai: openaiVerifier,
  vllm: vllmVerifier,
  tgi: tgiVerifier,
  sglang: sglangVerifier,
  ollama: ollamaVerifier,
  llamacpp: llamacppVerifier,
  'openai-compatible': listingOnlyVerifier,
};

export function verifierFor(backend: CompiledBackend): Verifier {
  const byType = BY_TYPE[backend.type];
  return backend.verify ? customVerifier(backend.verify, byType.healthUrl) : byType;
}
