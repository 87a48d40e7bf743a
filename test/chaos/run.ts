/**
 * `npm run chaos` (full form, ≤ 10 minutes) or `npm run chaos -- --short`.
 * CHAOS_SEED=<n> (or --seed <n>) reproduces a run's request mix and fuzz inputs.
 * Prints progress to stderr, the report to stdout; exits 1 when anything failed.
 */
import { killChildrenOnSignals, killTracked } from './children.js';
import { FULL, SHORT } from './profile.js';
import { renderReport, tally } from './report.js';
import { runChaos } from './suite.js';

function seedFrom(args: readonly string[]): number {
  const flag = args.indexOf('--seed');
  const text = flag >= 0 ? args[flag + 1] : process.env['CHAOS_SEED'];
  const seed = text === undefined ? Number.NaN : Number(text);
  return Number.isInteger(seed) ? seed : Date.now() % 2_147_483_647;
}

const args = process.argv.slice(2);
const profile = args.includes('--short') ? SHORT : FULL;
const seed = seedFrom(args);
killChildrenOnSignals();
const started = Date.now();
try {
  const report = await runChaos(profile, { seed, log: (line) => process.stderr.write(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`) });
  process.stdout.write(`${renderReport(report)}\n`);
  process.exitCode = tally(report).failed === 0 ? 0 : 1;
} catch (error) {
  process.stderr.write(`chaos run aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n0 passed, 1 failed\n`);
  process.exitCode = 1;
} finally {
  killTracked();
}
