/** Plain text tables for CLI output: padded columns, a rule under the header. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n') + '\n';
}

/** Shortens long values (shas, digests, paths) to `max` characters, keeping both ends. */
export function shorten(value: string, max = 24): string {
  if (value.length <= max) return value;
  const keep = max - 1;
  return `${value.slice(0, Math.ceil(keep * 0.6))}…${value.slice(value.length - Math.floor(keep * 0.4))}`;
}
