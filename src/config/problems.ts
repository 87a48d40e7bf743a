/**
 * A config problem names where it is (the YAML path, and line:column once the
 * loader has placed it) and what to do about it. Errors stop `check` and `serve`;
 * warnings are printed and logged.
 */

export type ConfigPath = readonly (string | number)[];

export interface ConfigProblem {
  readonly severity: 'error' | 'warning';
  readonly path: ConfigPath;
  readonly message: string;
  /** Point at the key itself rather than its value (unknown keys, bad names). */
  readonly atKey?: boolean;
  /** 1-based, filled in by the loader from the YAML source. */
  readonly line?: number;
  readonly column?: number;
}

export function configError(path: ConfigPath, message: string): ConfigProblem {
  return { severity: 'error', path, message };
}

export function configWarning(path: ConfigPath, message: string): ConfigProblem {
  return { severity: 'warning', path, message };
}

/** `routes.llama-3.1-8b[1].revision`: keys joined by dots, list indexes in brackets. */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text === '' ? 'document' : text;
}

/** `routes.x[1].revision (line 41:17): floating revision "latest" can move; ...` */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? '' : ` (line ${problem.line}:${problem.column ?? 1})`;
  return `${formatPath(problem.path)}${where}: ${problem.message}`;
}

/** Errors first, then warnings; each in source order. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const rank = (problem: ConfigProblem) => (problem.severity === 'error' ? 0 : 1);
  return [...problems].sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** Raised by the loader when a config has at least one error. */
export class ConfigInvalid extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const errors = problems.filter((problem) => problem.severity === 'error');
    super(`${file}: ${errors.length} config error(s)\n${errors.map(formatProblem).join('\n')}`);
    this.name = 'ConfigInvalid';
  }
}
