/** Small statistics over measured samples. */

/** The q-quantile (0..1) of `values`, nearest-rank on a sorted copy; null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? null;
}

export function median(values: readonly (number | null)[]): number | null {
  return quantile(values.filter((value): value is number => value !== null), 0.5);
}

export function ratio(value: number | null, base: number | null): number | null {
  return value === null || base === null || base === 0 ? null : value / base;
}
