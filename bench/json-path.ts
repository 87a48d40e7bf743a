/** Reading numbers out of parsed JSON (tool output) without `any`. */

/** The number at `path` inside `value`, or an error naming the path. */
export function numberAt(value: unknown, ...path: string[]): number {
  let current: unknown = value;
  for (const key of path) current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  if (typeof current !== 'number' || !Number.isFinite(current)) throw new Error(`${path.join('.')} is not a number`);
  return current;
}
