/**
 * `${VAR}` and `${VAR:-default}` in config strings, with shell semantics:
 * `${VAR}` requires VAR to be set (an unset variable is a config error, so a
 * missing secret stops `serve` instead of silently sending no key);
 * `${VAR:-x}` uses x when VAR is unset or empty. `$$` is a literal `$`.
 */

export type Environment = Readonly<Record<string, string | undefined>>;

export interface Interpolated {
  readonly value: string;
  /** Names of required variables that were not set. */
  readonly missing: readonly string[];
  /** True when the string contained at least one ${...} reference. */
  readonly usedEnvironment: boolean;
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(text: string, env: Environment): Interpolated {
  if (!text.includes('$')) return { value: text, missing: [], usedEnvironment: false };
  const missing: string[] = [];
  let usedEnvironment = false;
  const value = text.replace(REFERENCE, (match: string, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    usedEnvironment = true;
    const set = name === undefined ? undefined : env[name];
    if (fallback !== undefined) return set === undefined || set === '' ? fallback : set;
    if (set === undefined) {
      missing.push(name ?? '');
      return '';
    }
    return set;
  });
  return { value, missing, usedEnvironment };
}
