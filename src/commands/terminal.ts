/**
 * What the CLI needs from a terminal: whether to colour, ANSI colours (no
 * dependency: four SGR codes), and shortening long values so columns stay
 * readable. Everything here is pure; callers pass in the environment and isTTY.
 */
import type { Environment } from '../config/interpolate.js';

export type Colour = 'green' | 'red' | 'yellow' | 'dim' | 'bold';

// ECMA-48 SGR parameters: 32 green, 31 red, 33 yellow, 2 faint, 1 bold; 0 resets.
const SGR: Readonly<Record<Colour, string>> = { green: '32', red: '31', yellow: '33', dim: '2', bold: '1' };

export function paint(text: string, colour: Colour | null, enabled: boolean): string {
  if (!enabled || colour === null || text === '') return text;
  return `\u001b[${SGR[colour]}m${text}\u001b[0m`;
}

/**
 * Colour when stdout is a terminal, unless NO_COLOR is set to anything non-empty
 * (https://no-color.org). FORCE_COLOR wins over both, as in Node itself:
 * FORCE_COLOR=1 colours a pipe, FORCE_COLOR=0 (or "false") turns colour off.
 */
export function colourEnabled(env: Environment, isTTY: boolean): boolean {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if ((env['NO_COLOR'] ?? '') !== '') return false;
  return isTTY;
}

const ELLIPSIS = '…';

/** Width in terminal columns, counting code points (values here are ASCII names, shas, paths). */
export function displayWidth(text: string): number {
  return [...text].length;
}

/** Keeps the start and the end, which is where model names and paths differ: `llama-3.1…instruct-q8_0`. */
export function truncateMiddle(text: string, maxWidth: number): string {
  const characters = [...text];
  if (characters.length <= maxWidth) return text;
  if (maxWidth <= 1) return ELLIPSIS.slice(0, maxWidth);
  const head = Math.ceil((maxWidth - 1) / 2);
  const tail = maxWidth - 1 - head;
  return `${characters.slice(0, head).join('')}${ELLIPSIS}${tail > 0 ? characters.slice(-tail).join('') : ''}`;
}

/** Keeps the start: for messages, whose beginning says what happened. */
export function truncateEnd(text: string, maxWidth: number): string {
  const characters = [...text];
  if (characters.length <= maxWidth) return text;
  if (maxWidth <= 1) return ELLIPSIS.slice(0, maxWidth);
  return `${characters.slice(0, maxWidth - 1).join('')}${ELLIPSIS}`;
}

// A git sha is 40 hex digits, a sha256 digest 64; 16+ never occurs in a readable name.
const LONG_HEX = /[0-9a-f]{16,}/gi;
const SHORT_HASH_LENGTH = 12;

/**
 * `0e9e39f249a16976918f6564b8830bc894c89659` → `0e9e39f249a1…`, also inside
 * `llama-3.1-8b@<sha>` or `sha256:<digest>`: twelve hex digits identify a
 * revision as well as `git log --abbrev=12` does, and leave room for the rest.
 */
export function shortenHashes(text: string): string {
  return text.replace(LONG_HEX, (hash) => `${hash.slice(0, SHORT_HASH_LENGTH)}${ELLIPSIS}`);
}
