/**
 * The end of a chaos run: the fault table (what struck when, what was expected,
 * how the requests of that phase ended), the figures the issue asks for, the
 * fuzzers, and the closing `N passed, M failed` line. Every row is one
 * pass/fail verdict; a failed row lists the checks that failed under it.
 */
import type { Check, Fault } from './faults.js';
import type { FuzzOutcome } from './fuzz-http.js';

export interface FaultRow {
  /** A fault, or the calm phase between faults (strikes '-'). */
  readonly fault: { readonly name: string; readonly strikes: Fault['strikes'] | '-'; readonly expectation: string };
  readonly requests: number;
  readonly ok: number;
  readonly errorEvents: number;
  readonly failures: number;
  readonly failovers: number;
  /** Time until the fleet used the primary again; null: never; 'n/a': not a fault. */
  readonly recoveredMs: number | null | 'n/a';
  readonly checks: readonly Check[];
}

export interface Figure {
  readonly name: string;
  readonly value: string;
  /** null: information only, not a verdict. */
  readonly ok: boolean | null;
}

export interface ChaosReport {
  readonly profile: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: readonly FaultRow[];
  readonly figures: readonly Figure[];
  readonly fuzz: readonly FuzzOutcome[];
}

export function tally(report: ChaosReport): { passed: number; failed: number } {
  const verdicts = [
    ...report.faults.map((row) => row.checks.every((item) => item.ok)),
    ...report.figures.filter((figure) => figure.ok !== null).map((figure) => figure.ok === true),
    ...report.fuzz.map((outcome) => outcome.ok),
  ];
  const passed = verdicts.filter(Boolean).length;
  return { passed, failed: verdicts.length - passed };
}

export function renderReport(report: ChaosReport): string {
  const lines: string[] = [];
  lines.push(`pinroute chaos suite (${report.profile} form), seed ${report.seed}; reproduce with CHAOS_SEED=${report.seed}`);
  lines.push('fleet: 2 gateway processes sharing one redis-server; route chat = [primary (vllm, pinned), secondary (openai-compatible, always healthy)]');
  lines.push('');
  const header = ['#', 'fault', 'strikes', 'expectation', 'reqs', 'ok', 'err-ev', 'fail', 'f/over', 'recov', 'result'];
  const rows = report.faults.map((row, index) => [
    String(index + 1),
    row.fault.name,
    row.fault.strikes,
    row.fault.expectation,
    String(row.requests),
    String(row.ok),
    String(row.errorEvents),
    String(row.failures),
    String(row.failovers),
    row.recoveredMs === 'n/a' ? '-' : row.recoveredMs === null ? 'never' : `${(row.recoveredMs / 1000).toFixed(1)}s`,
    row.checks.every((item) => item.ok) ? 'pass' : 'FAIL',
  ]);
  const details = report.faults.map((row) => row.checks.filter((item) => !item.ok || item.detail !== '').map((item) => `${item.ok ? '  ' : '✗ '}${item.name}${item.detail ? `: ${item.detail}` : ''}`));
  lines.push(...table(header, rows, details, [4, 5, 6, 7, 8, 9]));
  lines.push('  reqs: requests started during the fault and its recovery; err-ev: streams ended by an SSE error event;');
  lines.push('  fail: client-visible failures; f/over: answers that show a failover or skip of the primary; recov: until the fleet used the primary again');
  lines.push('');
  lines.push('Figures');
  const width = Math.max(...report.figures.map((figure) => figure.name.length));
  for (const figure of report.figures) {
    const verdict = figure.ok === null ? '    ' : figure.ok ? 'pass' : 'FAIL';
    lines.push(`  ${verdict}  ${figure.name.padEnd(width)}  ${figure.value}`);
  }
  lines.push('');
  lines.push(`Fuzzing (fast-check, seed ${report.seed})`);
  const fuzzWidth = Math.max(...report.fuzz.map((outcome) => outcome.name.length));
  for (const outcome of report.fuzz) {
    lines.push(`  ${outcome.ok ? 'pass' : 'FAIL'}  ${outcome.name.padEnd(fuzzWidth)}  ${String(outcome.runs).padStart(5)} runs  ${outcome.detail}`);
  }
  lines.push('');
  lines.push(`duration ${(report.durationMs / 1000).toFixed(1)} s`);
  const { passed, failed } = tally(report);
  lines.push(`${passed} passed, ${failed} failed`);
  return lines.join('\n');
}

function table(header: string[], rows: string[][], details: string[][], rightAligned: number[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (cells: string[]) =>
    cells.map((cell, column) => (rightAligned.includes(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd();
  const out = [format(header), widths.map((width) => '-'.repeat(width)).join('  ')];
  rows.forEach((row, index) => {
    out.push(format(row));
    for (const line of details[index] ?? []) out.push(`      ${line}`);
  });
  return out;
}
