/**
 * `npm run bench:profile`: pinroute under load with `node --cpu-prof`, one
 * profile per path (non-streamed JSON, burst SSE, paced SSE, JSON on the
 * dead-primary route with its breaker open), then the top
 * self-time functions and areas of each, measured over the load window only.
 * Flags: --seconds=N (default 10), --connections=N (default 32),
 * --paths=json,sse,paced,failover, --top=N, --pinroute=DIR, --generator=wrk|autocannon,
 * --node-flags="…" (extra flags for pinroute's node: --no-turbo-inlining charges
 * time to the function that spends it instead of the one it was inlined into).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { sequential } from './client.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';
import { REPO_ROOT, startContender, startUpstream } from './contenders.js';
import { pickGenerator, runLoad } from './load.js';
import { requestBody } from './payloads.js';
import { killChildrenOnExit, pickCores, pinSelf, stopChild } from './processes.js';

const PATHS = ['json', 'sse', 'paced', 'failover'] as const;
type PathName = (typeof PATHS)[number];
/** Trimmed off both ends of the load window (process start is not exactly spawn time). */
const EDGE_MS = 300;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      paths: { type: 'string', default: PATHS.join(',') },
      top: { type: 'string', default: '15' },
      pinroute: { type: 'string' },
      generator: { type: 'string' },
      'node-flags': { type: 'string', default: '' },
    },
  });
  const extraNodeFlags = values['node-flags'].split(' ').filter((flag) => flag !== '');
  const seconds = Math.min(120, Math.max(2, Number(values.seconds)));
  const connections = Math.min(512, Math.max(1, Number(values.connections)));
  const top = Math.max(1, Number(values.top));
  const paths = values.paths.split(',').map((path) => path.trim());
  for (const path of paths) if (!(PATHS as readonly string[]).includes(path)) throw new Error(`--paths: unknown path "${path}" (known: ${PATHS.join(', ')})`);
  const pinrouteDir = values.pinroute === undefined ? REPO_ROOT : resolve(values.pinroute);
  if (values.generator !== undefined && values.generator !== 'wrk' && values.generator !== 'autocannon') throw new Error('--generator must be wrk or autocannon');

  killChildrenOnExit();
  const cores = pickCores();
  pinSelf(cores.load);
  const generator = await pickGenerator(values.generator ?? null);
  const outDir = fileURLToPath(new URL(`./results/profile-${new Date().toISOString().replace(/[:.]/g, '-')}/`, import.meta.url));
  await mkdir(outDir, { recursive: true });
  const upstream = await startUpstream(cores.load);
  const flags = extraNodeFlags.length > 0 ? `, node ${extraNodeFlags.join(' ')}` : '';
  process.stdout.write(`pinroute profile: ${connections} connections for ${seconds}s per path, generator ${generator.name}${flags}; ${cores.note}\n`);
  try {
    for (const path of paths as PathName[]) {
      const profileDir = join(outDir, path);
      await mkdir(profileDir, { recursive: true });
      const spawnedAt = performance.now();
      const pinroute = await startContender(path === 'failover' ? 'pinroute-failover' : 'pinroute', {
        core: cores.contender,
        upstream,
        workDir: profileDir,
        startupSamples: 1,
        pinrouteDir,
        pinrouteNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=200', ...extraNodeFlags],
      });
      const model = path === 'paced' ? pinroute.models.paced : pinroute.models.json;
      const body = requestBody(model, path === 'sse' || path === 'paced');
      await sequential(pinroute.endpoint, body, 200, 2000);
      await runLoad(generator, cores.load, pinroute.endpoint, body, connections, 2);
      const loadFrom = performance.now() - spawnedAt;
      const load = await runLoad(generator, cores.load, pinroute.endpoint, body, connections, seconds);
      const loadTo = performance.now() - spawnedAt;
      await pinroute.stop(); // SIGTERM: pinroute drains and exits, and node writes the profile
      const file = (await readdir(profileDir)).find((name) => name.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no .cpuprofile in ${profileDir} (did pinroute exit on SIGTERM?)`);
      const summary = await summarizeProfile(join(profileDir, file), loadFrom + EDGE_MS, loadTo - EDGE_MS, pinrouteDir.endsWith('/') ? pinrouteDir : `${pinrouteDir}/`);
      process.stdout.write(`\n${describe(path, load.rps, load.errors, summary, top)}\nprofile: ${join(profileDir, file)} (open in Chrome DevTools > Performance, or speedscope)\n`);
    }
  } finally {
    await stopChild(upstream.child);
  }
}

function describe(path: PathName, rps: number, errors: number, summary: ProfileSummary, top: number): string {
  const what = { json: 'non-streamed JSON', sse: 'SSE burst (20 events in one write)', paced: 'paced SSE (one event every 5 ms)', failover: 'non-streamed JSON, dead primary (breaker open)' }[path];
  const lines = [
    `== ${what}: ${Math.round(rps)} req/s${errors ? `, ${errors} errors` : ''}; ${summary.busyMs.toFixed(0)} ms busy of ${summary.windowMs.toFixed(0)} ms sampled`,
    '',
    'self ms   share  function (location)',
    ...summary.functions.slice(0, top).map((entry) => `${entry.selfMs.toFixed(0).padStart(7)}  ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.name}`),
    '',
    'self ms   share  area',
    ...summary.areas.slice(0, 12).map((entry) => `${entry.selfMs.toFixed(0).padStart(7)}  ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.name}`),
  ];
  return lines.join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
