/**
 * The passive revision check (SPEC §3): for backends whose answers name what
 * served them, every response is checked against the pin, for free.
 * - openai: the response `model` is the resolved dated snapshot; it must equal the pin.
 * - vllm: the response `model` is the first --served-model-name (not an echo);
 *   it must equal the target's model, which by convention carries the pin (name@sha).
 * Other stacks echo the request's model, so their answers prove nothing; they
 * are verified by probes only.
 */
import type { CompiledTarget } from '../config/table.js';
import type { RevisionStatus } from '../state/store.js';

export interface PassiveVerdict {
  readonly status: Exclude<RevisionStatus, 'unverified'>;
  readonly observed: string;
  readonly detail: string;
}

/** Whether answers of this target are checked (so their `model` must be read). */
export function checksAnswers(target: CompiledTarget): boolean {
  return target.pinned && (target.backend.type === 'openai' || target.backend.type === 'vllm');
}

export function passiveVerdict(target: CompiledTarget, upstreamModel: string | null): PassiveVerdict | null {
  if (upstreamModel === null || !target.pinned) return null;
  switch (target.backend.type) {
    case 'openai':
      return upstreamModel === target.revision
        ? { status: 'verified', observed: upstreamModel, detail: 'response model equals the pinned snapshot' }
        : { status: 'mismatch', observed: upstreamModel, detail: `response model "${upstreamModel}" is not the pinned snapshot` };
    case 'vllm':
      if (upstreamModel !== target.model) {
        return { status: 'mismatch', observed: upstreamModel, detail: `response model "${upstreamModel}" is not the served name "${target.model}"` };
      }
      return upstreamModel.includes(target.revision)
        ? { status: 'verified', observed: target.revision, detail: 'response model carries the pinned revision' }
        : null;
    default:
      return null;
  }
}
