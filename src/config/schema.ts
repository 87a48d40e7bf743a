/**
 * The shape of routes.config.yaml, and the only source of config types (`z.infer`).
 * Every object is strict: an unknown key is an error, because a typo such as
 * `revison:` must never be silently ignored. Cross-references and pin rules are
 * checked after this, in compile.ts.
 */
import { z } from 'zod';

const HOUR_MS = 3_600_000;
const milliseconds = (max: number) => z.number().int().min(0).max(max);
const positiveMilliseconds = (max: number) => z.number().int().min(1).max(max);

export const backendTypes = ['openai', 'vllm', 'tgi', 'sglang', 'ollama', 'llamacpp', 'openai-compatible'] as const;
export const revisionMismatchPolicies = ['skip', 'serve', 'fail'] as const;

export const timeoutsSchema = z.strictObject({
  connect_ms: positiveMilliseconds(HOUR_MS),
  first_byte_ms: positiveMilliseconds(HOUR_MS),
  idle_ms: positiveMilliseconds(HOUR_MS),
  total_ms: positiveMilliseconds(24 * HOUR_MS),
});

export const retrySchema = z.strictObject({
  attempts: z.number().int().min(0).max(10),
  backoff_ms: milliseconds(HOUR_MS),
  max_retry_after_ms: milliseconds(HOUR_MS),
});

export const breakerSchema = z.strictObject({
  error_threshold_pct: z.number().min(1).max(100),
  min_requests: z.number().int().min(1).max(1_000_000),
  window_ms: positiveMilliseconds(HOUR_MS),
  reset_ms: positiveMilliseconds(HOUR_MS),
});

export const probeSchema = z.strictObject({
  interval_ms: positiveMilliseconds(HOUR_MS),
  timeout_ms: positiveMilliseconds(HOUR_MS),
});

export const verifySchema = z.strictObject({
  /** Path appended to the backend origin (or to base_url when it starts without "/"). */
  path: z.string().min(1),
  /** RFC 6901 JSON pointer into the probe body; "{model}" is replaced by the target's model. */
  pointer: z.string().regex(/^(\/.*)?$/, 'must be a JSON pointer such as /data/0/id'),
  match: z.enum(['equals', 'contains']).default('equals'),
});

export const DEFAULT_POLICY = {
  timeouts: { connect_ms: 3000, first_byte_ms: 30_000, idle_ms: 30_000, total_ms: 120_000 },
  retry: { attempts: 0, backoff_ms: 250, max_retry_after_ms: 5000 },
  breaker: { error_threshold_pct: 50, min_requests: 5, window_ms: 10_000, reset_ms: 30_000 },
  probe: { interval_ms: 10_000, timeout_ms: 3000 },
} as const;

/** `defaults.breaker: { reset_ms: 5000 }` keeps the built-in values of the other keys. */
function withBuiltIns<Shape extends z.core.$ZodShape>(schema: z.ZodObject<Shape, z.core.$strict>, builtIns: z.output<z.ZodObject<Shape>>) {
  const partial = schema.partial();
  const given = (value: object) => Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined));
  return partial.prefault({} as z.input<typeof partial>).transform((value) => ({ ...builtIns, ...given(value) }) as z.output<z.ZodObject<Shape>>);
}

const policySchema = z.strictObject({
  timeouts: withBuiltIns(timeoutsSchema, DEFAULT_POLICY.timeouts),
  retry: withBuiltIns(retrySchema, DEFAULT_POLICY.retry),
  breaker: withBuiltIns(breakerSchema, DEFAULT_POLICY.breaker),
  probe: withBuiltIns(probeSchema, DEFAULT_POLICY.probe),
  on_revision_mismatch: z.enum(revisionMismatchPolicies).default('skip'),
});

/** Keys a backend or a route may override; each nested object may be partial. */
const routePolicyOverrides = {
  timeouts: timeoutsSchema.partial().optional(),
  retry: retrySchema.partial().optional(),
  breaker: breakerSchema.partial().optional(),
  on_revision_mismatch: z.enum(revisionMismatchPolicies).optional(),
};

export const backendSchema = z.strictObject({
  type: z.enum(backendTypes),
  base_url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  api_key: z.string().optional(),
  /** Extra request headers for this backend (e.g. an org id). Values may use ${VAR}. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Upper bound of keep-alive connections to this backend. */
  max_connections: z.number().int().min(1).max(10_000).default(256),
  verify: verifySchema.optional(),
  ...routePolicyOverrides,
  probe: probeSchema.partial().optional(),
});

/** Names and pins are echoed in response headers, so they must be printable ASCII without spaces. */
const headerSafe = (what: string) =>
  z.string().min(1, `${what} must not be empty`).regex(/^[\x21-\x7e]+$/, `${what} must be printable ASCII without spaces`);
const backendName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'backend names use letters, digits, ".", "_" and "-"');

export const targetSchema = z.strictObject({
  backend: backendName,
  model: headerSafe('model'),
  revision: headerSafe('revision'),
});

export const routeObjectSchema = z.strictObject({
  targets: z.array(targetSchema).min(1, 'a route needs at least one target'),
  ...routePolicyOverrides,
});

/**
 * A route is written either as a bare list of targets or as an object with
 * `targets` and overrides. The bare list is normalised to the object form, so the
 * rest of the code sees one shape; load.ts maps error paths back to what was written.
 */
export const routeSchema = z.preprocess(
  (value) => (Array.isArray(value) ? { targets: value } : value),
  routeObjectSchema,
);

export const serverSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: z.number().int().min(0).max(65_535).default(8080),
  api_keys: z.array(z.string()).default([]),
  admin_key: z.string().default(''),
  max_body_bytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(10 * 1024 * 1024),
  /** Deeper JSON is refused before parsing: it costs stack, and no real request needs it. */
  max_json_depth: z.number().int().min(4).max(1000).default(64),
  /** How long SIGTERM waits for in-flight requests and streams before closing them. */
  shutdown_grace_ms: milliseconds(HOUR_MS).default(30_000),
});

export const stateSchema = z.strictObject({
  /** One URL; for a Redis Cluster, comma-separated seed node URLs with mode: cluster. */
  redis_url: z.string().default(''),
  mode: z.enum(['standalone', 'cluster']).default('standalone'),
  key_prefix: z.string().min(1).default('pinroute:'),
});

export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  state: stateSchema.prefault({}),
  defaults: policySchema.prefault({}),
  backends: z.record(backendName, backendSchema),
  routes: z.record(headerSafe('a route name'), routeSchema),
});

export type Config = z.infer<typeof configSchema>;
export type BackendConfig = z.infer<typeof backendSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type RouteConfig = z.infer<typeof routeObjectSchema>;
export type BackendType = (typeof backendTypes)[number];
export type RevisionMismatchPolicy = (typeof revisionMismatchPolicies)[number];
export type Timeouts = z.infer<typeof timeoutsSchema>;
export type RetryPolicy = z.infer<typeof retrySchema>;
export type BreakerPolicy = z.infer<typeof breakerSchema>;
export type ProbePolicy = z.infer<typeof probeSchema>;
export type VerifyRule = z.infer<typeof verifySchema>;
