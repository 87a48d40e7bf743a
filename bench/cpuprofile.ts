/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function
 * and per area (pinroute's dist/, each npm package, node internals, GC), over
 * a window of the run so startup and shutdown stay out of the figures.
 */
import { readFile } from 'node:fs/promises';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time in the window. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly windowMs: number;
  readonly busyMs: number;
  readonly functions: readonly SelfTime[];
  readonly areas: readonly SelfTime[];
}

function isProfile(value: unknown): value is CpuProfile {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return Array.isArray(candidate['nodes']) && Array.isArray(candidate['samples']) && Array.isArray(candidate['timeDeltas']) && typeof candidate['startTime'] === 'number';
}

/** Self time per function and per area, for samples between `fromMs` and `toMs` after the profile started. */
export async function summarizeProfile(file: string, fromMs: number, toMs: number, repoRoot: string): Promise<ProfileSummary> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!isProfile(parsed)) throw new Error(`${file} is not a V8 cpuprofile`);
  const frames = new Map(parsed.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let elapsedUs = 0;
  let busyUs = 0;
  let windowUs = 0;
  for (let index = 0; index < parsed.samples.length; index++) {
    const deltaUs = parsed.timeDeltas[index] ?? 0;
    elapsedUs += deltaUs;
    if (elapsedUs < fromMs * 1000 || elapsedUs > toMs * 1000) continue;
    windowUs += deltaUs;
    const frame = frames.get(parsed.samples[index] ?? -1);
    if (!frame || frame.functionName === '(idle)') continue;
    busyUs += deltaUs;
    const location = shortUrl(frame.url, repoRoot);
    const name = `${frame.functionName || '(anonymous)'}${location ? ` ${location}:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + deltaUs);
    const area = areaOf(frame, location);
    byArea.set(area, (byArea.get(area) ?? 0) + deltaUs);
  }
  const ranked = (totals: Map<string, number>) =>
    [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs === 0 ? 0 : us / busyUs }));
  return { windowMs: windowUs / 1000, busyMs: busyUs / 1000, functions: ranked(byFunction), areas: ranked(byArea) };
}

function shortUrl(url: string, repoRoot: string): string {
  if (!url) return '';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const dependency = path.lastIndexOf('node_modules/');
  if (dependency !== -1) return path.slice(dependency);
  return path.startsWith(repoRoot) ? path.slice(repoRoot.length) : path;
}

/** Where the time went, coarsely: our code, a dependency, node itself, or V8. */
function areaOf(frame: CallFrame, location: string): string {
  if (frame.functionName.startsWith('(')) return frame.functionName; // (garbage collector), (program)
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(location);
  if (packageMatch) return `npm:${packageMatch[1]}`;
  if (location.startsWith('node:')) return 'node internals';
  if (location.startsWith('dist/') || location.startsWith('src/')) return `pinroute ${location.split('/').slice(0, 2).join('/')}`;
  return location ? 'other' : 'native / builtins';
}
