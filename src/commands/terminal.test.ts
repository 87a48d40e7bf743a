import { describe, expect, it } from 'vitest';
import { colourEnabled, paint, shortenHashes, truncateEnd, truncateMiddle } from './terminal.js';
import { renderTable } from './text-table.js';

describe('colourEnabled', () => {
  it('colours a terminal, not a pipe', () => {
    expect(colourEnabled({}, true)).toBe(true);
    expect(colourEnabled({}, false)).toBe(false);
  });

  it('NO_COLOR (non-empty) turns it off; FORCE_COLOR wins over both', () => {
    expect(colourEnabled({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colourEnabled({ NO_COLOR: '' }, true)).toBe(true);
    expect(colourEnabled({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colourEnabled({ FORCE_COLOR: '1', NO_COLOR: '1' }, false)).toBe(true);
    expect(colourEnabled({ FORCE_COLOR: '', NO_COLOR: '1' }, false)).toBe(true);
    expect(colourEnabled({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colourEnabled({ FORCE_COLOR: 'false' }, true)).toBe(false);
  });
});

describe('shortening', () => {
  it('cuts shas and digests to twelve digits, wherever they sit', () => {
    expect(shortenHashes('0e9e39f249a16976918f6564b8830bc894c89659')).toBe('0e9e39f249a1…');
    expect(shortenHashes('llama-3.1-8b@0e9e39f249a16976918f6564b8830bc894c89659')).toBe('llama-3.1-8b@0e9e39f249a1…');
    expect(shortenHashes('sha256:46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e')).toBe('sha256:46e0c10c039e…');
    expect(shortenHashes('gpt-4o-2024-08-06')).toBe('gpt-4o-2024-08-06');
  });

  it('keeps both ends, or the start, within the width', () => {
    expect(truncateMiddle('abcdefghij', 5)).toBe('ab…ij');
    expect(truncateMiddle('abcdefghij', 6)).toBe('abc…ij');
    expect(truncateMiddle('abc', 5)).toBe('abc');
    expect(truncateEnd('connect ECONNREFUSED', 10)).toBe('connect E…');
  });

  it('paints only when asked', () => {
    expect(paint('ok', 'green', false)).toBe('ok');
    expect(paint('ok', 'green', true)).toBe('\u001b[32mok\u001b[0m');
    expect(paint('ok', null, true)).toBe('ok');
  });
});

describe('renderTable', () => {
  it('aligns on visible text, whatever the colour codes', () => {
    const rows = [
      [{ text: 'a' }, { text: 'closed', colour: 'green' as const }, { text: 'x' }],
      [{ text: 'longer' }, { text: 'open', colour: 'red' as const }, { text: 'y' }],
    ];
    const columns = [{ header: 'name' }, { header: 'breaker' }, { header: 'note' }];
    const plain = renderTable(columns, rows, { colour: false });
    expect(plain).toEqual(['name    breaker  note', 'a       closed   x', 'longer  open     y']);
    expect(renderTable(columns, rows, { colour: true }).map((line) => line.replace(/\u001b\[\d+m/g, ''))).toEqual(plain);
  });

  it('lets a fill column take the rest of the line', () => {
    const columns = [{ header: 'n' }, { header: 'message', maxWidth: 5, truncate: 'end' as const, fill: true }];
    const rows = [[{ text: '1' }, { text: 'a long message that goes on' }]];
    expect(renderTable(columns, rows, { colour: false, maxLineWidth: 15 })[1]).toBe('1  a long mess…');
    expect(renderTable(columns, rows, { colour: false, maxLineWidth: 4 })[1]).toBe('1  a lo…');
    expect(renderTable(columns, rows, { colour: false })[1]).toBe('1  a lo…');
  });
});
