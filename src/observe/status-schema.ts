/**
 * The /admin/status document: its zod schema is the one definition, the type is
 * inferred from it. The gateway builds it (status.ts); `pinroute status` parses
 * it with the same schema, so the two cannot drift apart.
 */
import { z } from 'zod';

const timestamp = z.string().nullable();

const targetStatusSchema = z.object({
  backend: z.string(),
  type: z.string(),
  base_url: z.string(),
  model: z.string(),
  usable: z.boolean(),
  skip_reason: z.enum(['breaker_open', 'down', 'revision_mismatch']).nullable(),
  on_revision_mismatch: z.enum(['skip', 'serve', 'fail']),
  breaker: z.enum(['closed', 'open', 'half_open', 'unknown']),
  open_until: timestamp,
  health: z.object({ up: z.boolean().nullable(), checked_at: timestamp, latency_ms: z.number().nullable(), error: z.string().nullable() }),
  revision: z.object({
    pinned: z.string(),
    /** False for `revision: unpinned`. */
    is_pinned: z.boolean(),
    observed: z.string().nullable(),
    status: z.enum(['verified', 'mismatch', 'unverified']),
    checked_at: timestamp,
    detail: z.string().nullable(),
  }),
  last_error: z.object({ outcome: z.string(), message: z.string(), at: z.string() }).nullable(),
  counters: z.object({ attempts: z.number(), successes: z.number(), failures: z.number(), skipped: z.number() }),
});

export const statusDocumentSchema = z.object({
  service: z.literal('pinroute'),
  version: z.string(),
  /** Which replica answered (several sit behind one load balancer). */
  replica_id: z.string(),
  generated_at: z.string(),
  started_at: z.string(),
  uptime_s: z.number(),
  draining: z.boolean(),
  config: z.object({
    file: z.string(),
    last_reload: z.object({ at: z.string(), result: z.enum(['success', 'error']), problems: z.array(z.string()) }).nullable(),
  }),
  state_store: z.object({
    kind: z.enum(['memory', 'redis']),
    connected: z.boolean(),
    since: z.string(),
    last_error: z.string().nullable(),
    location: z.string(),
  }),
  /** In config order. */
  routes: z.array(z.object({ name: z.string(), total_ms: z.number(), targets: z.array(targetStatusSchema) })),
});

export type StatusDocument = z.infer<typeof statusDocumentSchema>;
export type TargetStatus = z.infer<typeof targetStatusSchema>;
