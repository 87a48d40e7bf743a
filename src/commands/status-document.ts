/**
 * Reading an /admin/status body as a StatusDocument. The schema is annotated
 * with the gateway's own type, so if observe/status.ts gains a field or changes
 * one, this stops compiling instead of the table silently showing stale columns.
 * Unknown extra fields are accepted (a newer gateway may add some).
 */
import { z } from 'zod';
import type { StatusDocument } from '../observe/status.js';

const timestamp = z.string().nullable();

const targetSchema = z.object({
  backend: z.string(),
  type: z.string(),
  base_url: z.string(),
  model: z.string(),
  usable: z.boolean(),
  skip_reason: z.string().nullable(),
  breaker: z.enum(['closed', 'open', 'half_open', 'unknown']),
  open_until: timestamp,
  health: z.object({ up: z.boolean().nullable(), checked_at: timestamp, latency_ms: z.number().nullable(), error: z.string().nullable() }),
  revision: z.object({ pinned: z.string(), observed: z.string().nullable(), status: z.string(), checked_at: timestamp, detail: z.string().nullable() }),
  last_error: z.object({ outcome: z.string(), message: z.string(), at: z.string() }).nullable(),
  counters: z.object({ attempts: z.number(), successes: z.number(), failures: z.number(), skipped: z.number() }),
});

export const statusDocumentSchema: z.ZodType<StatusDocument> = z.object({
  service: z.literal('pinroute'),
  version: z.string(),
  started_at: z.string(),
  uptime_s: z.number(),
  draining: z.boolean(),
  config: z.object({
    file: z.string(),
    last_reload: z.object({ at: z.string(), result: z.string(), problems: z.array(z.string()) }).nullable(),
  }),
  state_store: z.object({
    kind: z.enum(['memory', 'redis']),
    connected: z.boolean(),
    since: z.number(),
    lastError: z.string().nullable(),
    location: z.string(),
    since_iso: z.string(),
  }),
  routes: z.array(z.object({ name: z.string(), total_ms: z.number(), targets: z.array(targetSchema) })),
});

export type ParsedStatus = { readonly ok: true; readonly document: StatusDocument } | { readonly ok: false; readonly problem: string };

/** The body as a status document, or what is wrong with it, naming the first bad field. */
export function parseStatusDocument(body: string): ParsedStatus {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, problem: `the body is not JSON (starts with ${JSON.stringify(body.slice(0, 40))})` };
  }
  if (!isPinrouteDocument(value)) return { ok: false, problem: 'the body is JSON but not a pinroute status document (no "service": "pinroute")' };
  const result = statusDocumentSchema.safeParse(value);
  if (result.success) return { ok: true, document: result.data };
  const issue = result.error.issues[0];
  const where = issue ? issue.path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`)).join('').replace(/^\./, '') : '';
  return { ok: false, problem: `the document is not in the shape this CLI reads, at ${where || 'the top level'}: ${issue?.message ?? 'invalid'}` };
}

/** Enough for `--json`, which hands the body on untouched: a JSON object from pinroute. */
export function isPinrouteDocument(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'service' in value && value.service === 'pinroute';
}
