/**
 * `pinroute check`: every problem with its YAML path and line:column, errors
 * first; exit 1 when there is any error (an unset required ${VAR} included).
 */
import { readFile } from 'node:fs/promises';
import type { Environment } from '../config/interpolate.js';
import { parseConfigText } from '../config/load.js';
import { formatProblem } from '../config/problems.js';

export async function runCheck(configFile: string, env: Environment): Promise<number> {
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (error) {
    process.stderr.write(`error: cannot read ${configFile}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const { table, problems } = parseConfigText(text, env);
  const errors = problems.filter((problem) => problem.severity === 'error');
  const warnings = problems.filter((problem) => problem.severity === 'warning');
  for (const problem of errors) process.stderr.write(`error: ${formatProblem(problem)}\n`);
  for (const problem of warnings) process.stderr.write(`warning: ${formatProblem(problem)}\n`);
  if (!table) {
    process.stderr.write(`${configFile}: ${errors.length} error(s), ${warnings.length} warning(s)\n`);
    return 1;
  }
  const targets = [...table.routes.values()].reduce((sum, route) => sum + route.targets.length, 0);
  process.stdout.write(
    `${configFile}: ok — ${table.routes.size} route(s), ${table.backends.size} backend(s), ${targets} target(s), ${warnings.length} warning(s)\n`,
  );
  return 0;
}
