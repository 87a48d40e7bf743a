/**
 * One pass over a request body's JSON text, before JSON.parse, to learn two
 * things JSON.parse cannot tell us:
 * - how deeply it nests (refused past server.max_json_depth: upstream parsers
 *   recurse, and no real request needs hundreds of levels);
 * - where the top-level "model" value sits, so the body can be forwarded
 *   byte-for-byte with only that value replaced. Re-serialising instead would
 *   alter numbers (a 64-bit `seed` loses precision) and formatting.
 * The text is assumed to be valid JSON only if JSON.parse later agrees.
 */

export interface JsonScan {
  readonly depthExceeded: boolean;
  /** Offsets of the last top-level "model" member's value (JSON.parse keeps the last duplicate). */
  readonly modelValueStart: number;
  readonly modelValueEnd: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;

export function scanJson(text: string, maxDepth: number): JsonScan {
  let depth = 0;
  let modelValueStart = -1;
  let modelValueEnd = -1;
  /** Set after the top-level key "model" and its colon: the next value is the model. */
  let expectModelValue = false;
  let lastTopLevelKey: string | null = null;
  const length = text.length;
  for (let index = 0; index < length; index++) {
    const char = text.charCodeAt(index);
    if (char === QUOTE) {
      const end = stringEnd(text, index);
      if (end < 0) break;
      if (depth === 1) {
        if (expectModelValue) {
          modelValueStart = index;
          modelValueEnd = end + 1;
          expectModelValue = false;
        } else {
          lastTopLevelKey = text.slice(index + 1, end);
        }
      }
      index = end;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      if (depth === 1 && expectModelValue) {
        // "model": {...} is not a string; JSON.parse validation will reject it later.
        expectModelValue = false;
      }
      depth++;
      if (depth > maxDepth) return { depthExceeded: true, modelValueStart: -1, modelValueEnd: -1 };
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    } else if (char === COLON && depth === 1) {
      expectModelValue = lastTopLevelKey === 'model';
      lastTopLevelKey = null;
    } else if (expectModelValue && !isWhitespace(char)) {
      // A number, true, false or null: not a string model, so no span.
      expectModelValue = false;
    }
  }
  return { depthExceeded: false, modelValueStart, modelValueEnd };
}

function isWhitespace(char: number): boolean {
  return char === 0x20 || char === 0x0a || char === 0x0d || char === 0x09;
}

/** Index of the quote that closes the string opening at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let index = start + 1;
  for (;;) {
    const quote = text.indexOf('"', index);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let back = quote - 1; back > start && text.charCodeAt(back) === BACKSLASH; back--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    index = quote + 1;
  }
}
