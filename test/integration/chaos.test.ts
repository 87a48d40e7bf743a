/**
 * The chaos suite's short form (test/chaos/, `npm run chaos` for the full one):
 * real gateway processes, real Redis and scripted upstreams under a steady SDK
 * load while every fault of issue 6 strikes in turn, then fast-check fuzzing of
 * bodies, headers and config files. The report is printed; any failed row fails
 * the test. A fixed seed keeps `npm test` reproducible; CHAOS_SEED picks another.
 */
import { expect, it } from 'vitest';
import { SHORT } from '../chaos/profile.js';
import { renderReport, tally } from '../chaos/report.js';
import { runChaos } from '../chaos/suite.js';
import { describeWithRedis } from '../support/redis.js';

const seed = Number(process.env['CHAOS_SEED'] ?? 20_260_601);

describeWithRedis('chaos suite, short form', () => {
  it('nothing is lost under fire: zero client-visible failures, explicit stream errors, trial discipline, RSS, fuzzing', async () => {
    const report = await runChaos(SHORT, { seed, log: () => undefined });
    const text = renderReport(report);
    console.log(text);
    expect(tally(report).failed, text).toBe(0);
  }, 150_000);
});
