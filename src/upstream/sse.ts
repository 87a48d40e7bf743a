/**
 * The little of Server-Sent Events (WHATWG HTML §9.2) the gateway must read:
 * the first data event of a stream (the commit point: an in-band error there
 * still fails over, and its `model` is the passive revision check), and whether
 * a finished stream ended with `data: [DONE]`. Everything between is relayed as
 * bytes, never parsed.
 */

export type FirstEvent =
  | { readonly kind: 'incomplete' }
  /** The stream's first data event was [DONE]: an empty but well-formed stream. */
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'data'; readonly model: string | null };

const EVENT_BOUNDARY = /\r\n\r\n|\n\n|\r\r/;

/** Looks for the first event that carries data in what has arrived so far. */
export function readFirstEvent(text: string): FirstEvent {
  let rest = text;
  for (;;) {
    const boundary = EVENT_BOUNDARY.exec(rest);
    if (!boundary) return { kind: 'incomplete' };
    const event = parseEvent(rest.slice(0, boundary.index));
    rest = rest.slice(boundary.index + boundary[0].length);
    if (event.data === null) continue; // comments (": ping") and bare fields carry nothing yet
    return inspect(event.name, event.data);
  }
}

function parseEvent(block: string): { name: string; data: string | null } {
  let name = 'message';
  let data: string | null = null;
  for (const line of block.split(/\r\n|\n|\r/)) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data = data === null ? value : `${data}\n${value}`;
    else if (field === 'event') name = value;
  }
  return { name, data };
}

function inspect(name: string, data: string): FirstEvent {
  if (data.trim() === '[DONE]') return { kind: 'done' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return { kind: 'error', message: `malformed first event (not JSON): ${data.slice(0, 120)}` };
  }
  if (typeof parsed !== 'object' || parsed === null) return { kind: 'error', message: 'malformed first event (not an object)' };
  const error = (parsed as { error?: unknown }).error;
  if (name === 'error' || (error !== undefined && error !== null && error !== false)) {
    return { kind: 'error', message: `in-band error in first event: ${describeInBandError(error ?? parsed)}` };
  }
  const model = (parsed as { model?: unknown }).model;
  return { kind: 'data', model: typeof model === 'string' ? model : null };
}

function describeInBandError(error: unknown): string {
  if (typeof error === 'string') return error.slice(0, 300);
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
    return error.message.slice(0, 300);
  }
  return JSON.stringify(error).slice(0, 300);
}

/** True when the last bytes of a stream are its `data: [DONE]` terminator. */
export function endsWithDone(tail: string): boolean {
  return /data: ?\[DONE\]\s*$/.test(tail);
}

/** An SSE event the OpenAI SDKs raise as an APIError (openai-node core/streaming.ts). */
export function sseErrorEvent(message: string, code: string): string {
  const body = { error: { message, type: 'upstream_error', param: null, code } };
  return `data: ${JSON.stringify(body)}\n\n`;
}
