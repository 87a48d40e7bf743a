/**
 * Timings of a chaos run. The full form (`npm run chaos`) uses gateway timings
 * near production shape and the 20 s flap the issue asks for; the short form
 * (inside `npm test`) compresses every timing so the same faults and the same
 * expectations run in about a minute on a 2-core machine.
 */
export interface ChaosProfile {
  readonly name: 'full' | 'short';
  /** Gateway timeouts written into the fleet's config. */
  readonly timeouts: { readonly connect_ms: number; readonly first_byte_ms: number; readonly idle_ms: number; readonly total_ms: number };
  readonly breaker: { readonly error_threshold_pct: number; readonly min_requests: number; readonly window_ms: number; readonly reset_ms: number };
  readonly probe: { readonly interval_ms: number; readonly timeout_ms: number };
  readonly retry: { readonly attempts: number; readonly backoff_ms: number; readonly max_retry_after_ms: number };
  readonly shutdownGraceMs: number;
  /** How long each fault is held while the load runs. */
  readonly faultMs: number;
  /** Calm load before the first fault (warm-up, RSS baseline). */
  readonly warmupMs: number;
  /** Upper bound on waiting for the fleet to use the primary again after a fault. */
  readonly recoverMs: number;
  readonly flap: { readonly downMs: number; readonly upMs: number; readonly secondDownMs: number };
  readonly load: {
    /** Concurrent SDK clients. */
    readonly concurrency: number;
    /** Pause between one client's requests: a steady load, not a CPU-saturating one. */
    readonly thinkMs: number;
    /** Hard cap on requests for the whole run. */
    readonly maxRequests: number;
    /** Share of streamed requests. */
    readonly streamShare: number;
  };
  /** Load after the faults, before RSS is read again. */
  readonly soakMs: number;
  readonly fuzz: {
    readonly bodies: number;
    readonly headers: number;
    readonly configParse: number;
    readonly configCheckCli: number;
    readonly hotReload: number;
  };
  /** Hard bound on the whole run; past it the run stops and reports what it has. */
  readonly budgetMs: number;
}

export const FULL: ChaosProfile = {
  name: 'full',
  timeouts: { connect_ms: 500, first_byte_ms: 1500, idle_ms: 1500, total_ms: 6000 },
  breaker: { error_threshold_pct: 50, min_requests: 5, window_ms: 5000, reset_ms: 2000 },
  probe: { interval_ms: 1000, timeout_ms: 500 },
  retry: { attempts: 1, backoff_ms: 25, max_retry_after_ms: 500 },
  shutdownGraceMs: 15_000,
  faultMs: 8000,
  warmupMs: 5000,
  recoverMs: 20_000,
  flap: { downMs: 20_000, upMs: 6000, secondDownMs: 10_000 },
  load: { concurrency: 6, thinkMs: 10, maxRequests: 200_000, streamShare: 0.5 },
  soakMs: 20_000,
  fuzz: { bodies: 400, headers: 300, configParse: 1500, configCheckCli: 20, hotReload: 20 },
  budgetMs: 10 * 60_000,
};

export const SHORT: ChaosProfile = {
  name: 'short',
  timeouts: { connect_ms: 300, first_byte_ms: 600, idle_ms: 600, total_ms: 3000 },
  breaker: { error_threshold_pct: 50, min_requests: 4, window_ms: 2000, reset_ms: 700 },
  probe: { interval_ms: 400, timeout_ms: 300 },
  retry: { attempts: 1, backoff_ms: 20, max_retry_after_ms: 300 },
  shutdownGraceMs: 8000,
  faultMs: 1200,
  warmupMs: 1000,
  recoverMs: 10_000,
  flap: { downMs: 3000, upMs: 1200, secondDownMs: 2000 },
  load: { concurrency: 4, thinkMs: 15, maxRequests: 20_000, streamShare: 0.5 },
  soakMs: 2000,
  fuzz: { bodies: 80, headers: 60, configParse: 300, configCheckCli: 4, hotReload: 5 },
  budgetMs: 110_000,
};
