/**
 * The /admin/status document: every route and target with its breaker, health,
 * pinned vs observed revision, last error and counters, plus the state store and
 * the last config reload. Built from the live views only; it holds no secret
 * (keys are never read here, and URLs are shown without credentials).
 */
import { formatProblem } from '../config/problems.js';
import type { CompiledTarget } from '../config/table.js';
import type { Gateway } from '../gateway.js';
import type { StatusDocument, TargetStatus } from './status-schema.js';

export type { StatusDocument, TargetStatus } from './status-schema.js';

export function buildStatus(gateway: Gateway, version: string): StatusDocument {
  const table = gateway.table;
  const now = Date.now();
  const connectivity = gateway.store.connectivity();
  const reload = gateway.lastReload;
  return {
    service: 'pinroute',
    version,
    replica_id: gateway.store.replicaId,
    generated_at: new Date(now).toISOString(),
    started_at: new Date(gateway.startedAt).toISOString(),
    uptime_s: Math.round((now - gateway.startedAt) / 1000),
    draining: gateway.draining,
    config: {
      file: gateway.configFile,
      last_reload: reload
        ? { at: iso(reload.at) ?? '', result: reload.result, problems: reload.problems.filter((p) => p.severity === 'error').map(formatProblem) }
        : null,
    },
    state_store: {
      kind: connectivity.kind,
      connected: connectivity.connected,
      since: iso(connectivity.since) ?? '',
      last_error: connectivity.lastError,
      location: connectivity.location,
    },
    routes: [...table.routes.values()].map((route) => ({
      name: route.name,
      total_ms: route.totalMs,
      targets: route.targets.map((target) => targetStatus(gateway, target, now)),
    })),
  };
}

function targetStatus(gateway: Gateway, target: CompiledTarget, now: number): TargetStatus {
  const state = gateway.registry.stateOf(target.stateKey);
  const health = gateway.registry.healthOf(target.backend.name);
  const skip = gateway.registry.skipReason(target, now);
  return {
    backend: target.backend.name,
    type: target.backend.type,
    base_url: target.backend.baseUrl,
    model: target.model,
    usable: skip === null,
    skip_reason: skip,
    on_revision_mismatch: target.onRevisionMismatch,
    breaker: state?.breaker.state ?? 'unknown',
    open_until: state && state.openUntil > now ? iso(state.openUntil) : null,
    health: { up: health.up, checked_at: iso(health.checkedAt), latency_ms: health.latencyMs, error: health.error },
    revision: {
      pinned: target.revision,
      is_pinned: target.pinned,
      observed: state?.revision.observed ?? null,
      status: target.pinned ? (state?.revision.status ?? 'unverified') : 'unverified',
      checked_at: iso(state?.revision.checkedAt ?? null),
      detail: state?.revision.detail ?? null,
    },
    last_error: state?.lastError ? { outcome: state.lastError.outcome, message: state.lastError.message, at: iso(state.lastError.at) ?? '' } : null,
    counters: state ? { ...state.counters } : { attempts: 0, successes: 0, failures: 0, skipped: 0 },
  };
}

function iso(epochMs: number | null): string | null {
  return epochMs === null || epochMs === 0 ? null : new Date(epochMs).toISOString();
}
