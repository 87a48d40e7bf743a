/**
 * A StatusDocument as lines of text: a header (service, state store, config),
 * then one table per route with its targets in fallback order. Pure: the same
 * document and options give the same lines, so it is tested without a gateway.
 *
 * Ages ("3s ago", "open 25s") are measured on the gateway's clock (the
 * document's generated_at), so a skewed client clock does not distort them.
 */
import type { StatusDocument, TargetStatus } from '../observe/status-schema.js';
import { paint, shortenHashes, type Colour } from './terminal.js';
import { renderTable, type Cell, type Column } from './text-table.js';

export interface RenderOptions {
  readonly colour: boolean;
  /** Terminal width, when stdout is one: the last-error column uses what is left. */
  readonly width?: number;
  /** Where the document came from, shown in the first line. */
  readonly source?: string;
}

const NONE = '—';
const LABEL_WIDTH = 13;

/** Without a terminal width (a pipe, a log), messages are cut at this length. */
const PIPE_ERROR_WIDTH = 72;
const MIN_ERROR_WIDTH = 40;

function targetColumns(terminalWidth: number | undefined): Column[] {
  return [
    { header: '#', align: 'right' },
    { header: 'backend', maxWidth: 16 },
    { header: 'model', maxWidth: 32 },
    { header: 'usable', maxWidth: 24, truncate: 'end' },
    { header: 'breaker', maxWidth: 16, truncate: 'end' },
    { header: 'health', maxWidth: 8 },
    { header: 'pinned', maxWidth: 24 },
    { header: 'observed', maxWidth: 24 },
    { header: 'status', maxWidth: 12, truncate: 'end' },
    { header: 'last error', maxWidth: terminalWidth === undefined ? PIPE_ERROR_WIDTH : MIN_ERROR_WIDTH, truncate: 'end', fill: true },
  ];
}

export function renderStatus(document: StatusDocument, options: RenderOptions): string[] {
  const now = Date.parse(document.generated_at);
  const lines = [...renderHeader(document, options), ''];
  if (document.routes.length === 0) lines.push('no routes configured', '');
  // One table over every route's targets, cut per route, so columns line up down the page.
  const rows = document.routes.flatMap((route) => route.targets.map((target, index) => targetRow(target, index + 1, now)));
  const table = { colour: options.colour, indent: '  ', ...(options.width === undefined ? {} : { maxLineWidth: options.width }) };
  const [header = '', ...rendered] = renderTable(targetColumns(options.width), rows, table);
  let next = 0;
  for (const route of document.routes) {
    const title = paint(`route ${route.name}`, 'bold', options.colour);
    const detail = paint(`(${plural(route.targets.length, 'target')}, chain deadline ${duration(route.total_ms / 1000)})`, 'dim', options.colour);
    lines.push(`${title}  ${detail}`);
    if (route.targets.length === 0) lines.push('  (no targets)');
    else lines.push(header, ...rendered.slice(next, next + route.targets.length));
    next += route.targets.length;
    lines.push('');
  }
  lines.push(summary(document));
  return lines;
}

function renderHeader(document: StatusDocument, options: RenderOptions): string[] {
  const { colour } = options;
  const store = document.state_store;
  const reload = document.config.last_reload;
  const label = (text: string): string => paint(text.padEnd(LABEL_WIDTH), 'dim', colour);
  const first = `${paint(`pinroute ${document.version}`, 'bold', colour)}${options.source ? ` at ${options.source}` : ''} · up ${duration(document.uptime_s)} (since ${clock(document.started_at)})`;
  const storeState = store.connected
    ? `${paint('connected', 'green', colour)} since ${clock(store.since)}`
    : `${paint('disconnected', 'red', colour)} since ${clock(store.since)}${store.last_error ? ` (${store.last_error})` : ''}; serving on local state`;
  const lines = [
    first,
    `${label('state store')}${store.kind} (${store.location}) · ${storeState}`,
    `${label('draining')}${document.draining ? paint('yes: finishing in-flight requests, /readyz is 503', 'yellow', colour) : 'no'}`,
    `${label('config')}${document.config.file}`,
  ];
  if (reload === null) lines.push(`${label('last reload')}none since start`);
  else {
    const ok = reload.result === 'success';
    const result = ok ? 'ok' : reload.result === 'error' ? 'rejected' : reload.result;
    lines.push(`${label('last reload')}${paint(result, ok ? 'green' : 'red', colour)} at ${clock(reload.at)}${ok ? '' : ' (the previous config keeps serving)'}`);
    for (const problem of reload.problems) lines.push(`${' '.repeat(LABEL_WIDTH)}${paint('error:', 'red', colour)} ${problem}`);
  }
  return lines;
}

function targetRow(target: TargetStatus, position: number, now: number): Cell[] {
  const { revision } = target;
  return [
    { text: String(position) },
    { text: target.backend },
    { text: shortenHashes(target.model) },
    target.usable ? { text: 'usable', colour: 'green' } : { text: `skip: ${target.skip_reason ?? 'unknown'}`, colour: 'red' },
    breakerCell(target, now),
    healthCell(target.health.up),
    { text: shortenHashes(revision.pinned) },
    revision.observed === null ? { text: NONE, colour: 'dim' } : { text: shortenHashes(revision.observed), colour: revision.status === 'mismatch' ? 'red' : null },
    { text: revision.status, colour: revisionColour(revision.status) },
    lastErrorCell(target, now),
  ];
}

function breakerCell(target: TargetStatus, now: number): Cell {
  const remaining = target.open_until === null ? 0 : Date.parse(target.open_until) - now;
  const left = remaining > 0 ? ` ${duration(remaining / 1000)}` : '';
  switch (target.breaker) {
    case 'open':
      return { text: `open${left}`, colour: 'red' };
    case 'half_open':
      return { text: 'half_open', colour: 'yellow' };
    case 'closed':
      // A 429 cools a target without tripping its breaker; it is skipped all the same.
      return remaining > 0 ? { text: `cooling${left}`, colour: 'red' } : { text: 'closed', colour: 'green' };
    case 'unknown':
      return { text: 'unknown', colour: 'dim' };
  }
}

function healthCell(up: boolean | null): Cell {
  if (up === null) return { text: 'unknown', colour: 'dim' };
  return up ? { text: 'up', colour: 'green' } : { text: 'down', colour: 'red' };
}

function revisionColour(status: string): Colour | null {
  if (status === 'verified') return 'green';
  if (status === 'mismatch') return 'red';
  if (status === 'unverified') return 'yellow';
  return null;
}

function lastErrorCell(target: TargetStatus, now: number): Cell {
  const error = target.last_error;
  if (error !== null) return { text: `${error.outcome} (${age(error.at, now)}): ${oneLine(error.message)}` };
  if (target.health.error !== null) return { text: `health: ${oneLine(target.health.error)}` };
  return { text: NONE, colour: 'dim' };
}

function summary(document: StatusDocument): string {
  const targets = document.routes.flatMap((route) => route.targets);
  const skipped = targets.filter((target) => !target.usable).length;
  const mismatched = targets.filter((target) => target.revision.status === 'mismatch').length;
  const verified = targets.filter((target) => target.revision.status === 'verified').length;
  return `${plural(document.routes.length, 'route')}, ${plural(targets.length, 'target')}: ${targets.length - skipped} usable, ${skipped} skipped; ${verified} verified, ${plural(mismatched, 'revision mismatch', 'revision mismatches')}`;
}

function age(iso: string, now: number): string {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? 'at an unknown time' : `${duration(Math.max(0, now - at) / 1000)} ago`;
}

/** `42s`, `5m 03s`, `3h 12m`, `2d 4h`: two units at most. */
export function duration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  const [days, hours, minutes, secs] = [Math.floor(whole / 86_400), Math.floor(whole / 3600) % 24, Math.floor(whole / 60) % 60, whole % 60];
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  return `${minutes}m ${String(secs).padStart(2, '0')}s`;
}

/** `2026-12-03T14:38:18.266Z` → `2026-12-03 14:38:18Z`. */
function clock(iso: string): string {
  return iso === '' ? 'an unknown time' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
