/**
 * What counts as a pin. A revision must name one immutable thing (a commit sha,
 * a content digest, a dated snapshot); names that are moved by their owners
 * ("latest", a branch, an undated OpenAI alias) are refused, because the point of
 * pinroute is that output cannot change without the config changing.
 */
import type { BackendType } from './schema.js';

/** The explicit opt-out: accepted, but `check` warns and the target is never verified. */
export const UNPINNED = 'unpinned';

const FLOATING_NAMES = new Set(['latest', 'main', 'master', 'stable']);

/** OpenAI snapshots end in a date (gpt-4o-2024-08-06) or, for older models, MMDD (gpt-4-0613). */
const DATED_OPENAI_SNAPSHOT = /\d{4}-\d{2}-\d{2}|-\d{4}(?::|$)/;

/** Why `revision` floats, or null when it is a usable pin. */
export function floatingRevisionReason(revision: string, backendType: BackendType): string | null {
  const lower = revision.toLowerCase();
  if (FLOATING_NAMES.has(lower) || lower.endsWith(':latest')) {
    return `floating revision "${revision}" can move; pin a commit sha, digest or dated snapshot`;
  }
  if (backendType === 'openai' && lower !== UNPINNED && !DATED_OPENAI_SNAPSHOT.test(revision)) {
    return `floating revision "${revision}" is an undated OpenAI alias that can move; pin a dated snapshot such as gpt-4o-2024-08-06`;
  }
  return null;
}
