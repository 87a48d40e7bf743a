/**
 * A plain-text table whose columns are aligned on the visible text, so ANSI
 * colour (added after padding) never shifts a column. Cells longer than their
 * column's limit are shortened, from the middle or from the end per column.
 */
import { displayWidth, paint, truncateEnd, truncateMiddle, type Colour } from './terminal.js';

export interface Cell {
  readonly text: string;
  readonly colour?: Colour | null;
}

export interface Column {
  readonly header: string;
  /** Longest value shown; longer ones are shortened. Omitted: no limit. */
  readonly maxWidth?: number;
  /** Where a long value loses characters; `middle` (default) keeps both ends of names and paths. */
  readonly truncate?: 'middle' | 'end';
  readonly align?: 'left' | 'right';
  /**
   * Takes what `maxLineWidth` leaves after the other columns (never less than
   * `maxWidth`), so a long message uses a wide terminal and is cut on a narrow one.
   */
  readonly fill?: boolean;
}

export interface TableOptions {
  readonly colour: boolean;
  readonly indent?: string;
  readonly gap?: string;
  /** Terminal width, when known; only `fill` columns adapt to it. */
  readonly maxLineWidth?: number;
}

type Rows = readonly (readonly Cell[])[];

export function renderTable(columns: readonly Column[], rows: Rows, options: TableOptions): string[] {
  const indent = options.indent ?? '';
  const gap = options.gap ?? '  ';
  const cells = rows.map((row) => columns.map((_, index) => row[index] ?? { text: '' }));
  const fixed = cells.map((row) => row.map((cell, index) => (columns[index]?.fill ? cell : fit(cell, columns[index]?.maxWidth, columns[index]))));
  const fixedWidth = columns.reduce((sum, column, index) => (column.fill ? sum : sum + widthOf(column, fixed, index) + gap.length), displayWidth(indent));
  const fitted = fixed.map((row) =>
    row.map((cell, index) => {
      const column = columns[index];
      if (!column?.fill) return cell;
      const limit = options.maxLineWidth === undefined ? column.maxWidth : Math.max(column.maxWidth ?? 0, options.maxLineWidth - fixedWidth);
      return fit(cell, limit, column);
    }),
  );
  const widths = columns.map((column, index) => widthOf(column, fitted, index));
  const line = (row: readonly Cell[]): string =>
    `${indent}${row
      .map((cell, index) => {
        const padded = pad(cell.text, widths[index] ?? 0, columns[index]?.align ?? 'left', index === row.length - 1);
        return paint(padded, cell.colour ?? null, options.colour);
      })
      .join(gap)}`.trimEnd();
  const header = columns.map((column): Cell => ({ text: column.header, colour: 'dim' }));
  return [line(header), ...fitted.map(line)];
}

function widthOf(column: Column, rows: Rows, index: number): number {
  return Math.max(displayWidth(column.header), ...rows.map((row) => displayWidth(row[index]?.text ?? '')));
}

function fit(cell: Cell, limit: number | undefined, column: Column | undefined): Cell {
  if (limit === undefined || displayWidth(cell.text) <= limit) return cell;
  const text = column?.truncate === 'end' ? truncateEnd(cell.text, limit) : truncateMiddle(cell.text, limit);
  return { ...cell, text };
}

/** The last column is not padded on the right: no trailing spaces to wrap a narrow terminal. */
function pad(text: string, width: number, align: 'left' | 'right', last: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  if (align === 'right') return `${fill}${text}`;
  return last ? text : `${text}${fill}`;
}
