/**
 * The client's request body: read within max_body_bytes, validated as a JSON
 * object with a string `model`, and re-emitted per target with only `model`
 * replaced (json-scan.ts explains why not re-serialised).
 */
import type { IncomingMessage } from 'node:http';
import type { GatewayError } from '../errors.js';
import { scanJson } from './json-scan.js';

export interface ProxyBody {
  readonly model: string;
  readonly stream: boolean;
  /** The body to send to a target: the client's bytes with `model` set to the target's model. */
  withModel(model: string): Buffer;
}

/** Reads the whole body, or reports 413 as soon as it is known to be too large. */
export function readRequestBody(request: IncomingMessage, limitBytes: number): Promise<Buffer | GatewayError> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    return Promise.resolve({ code: 'body_too_large', limitBytes });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        request.off('data', onData);
        request.pause();
        resolve({ code: 'body_too_large', limitBytes });
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    request.on('error', (error) => resolve({ code: 'invalid_request', message: `request body could not be read: ${error.message}`, param: null }));
  });
}

export function parseProxyBody(raw: Buffer, maxDepth: number): ProxyBody | GatewayError {
  const text = raw.toString('utf8');
  if (!/\S/.test(text)) return { code: 'invalid_json', detail: 'the request body is empty; send a JSON object' };
  const scan = scanJson(text, maxDepth);
  if (scan.depthExceeded) {
    return { code: 'invalid_request', message: `request JSON nests deeper than ${maxDepth} levels`, param: null };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { code: 'invalid_json', detail: error instanceof Error ? error.message : String(error) };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { code: 'invalid_request', message: 'the request body must be a JSON object', param: null };
  }
  const { model, stream } = parsed as { model?: unknown; stream?: unknown };
  if (model === undefined) return { code: 'invalid_request', message: 'you must provide a model parameter', param: 'model' };
  if (typeof model !== 'string' || model === '') {
    return { code: 'invalid_request', message: 'model must be a non-empty string naming a route', param: 'model' };
  }
  return { model, stream: stream === true, withModel: splicer(text, parsed as Record<string, unknown>, model, scan) };
}

function splicer(text: string, parsed: Record<string, unknown>, model: string, scan: ReturnType<typeof scanJson>): (model: string) => Buffer {
  const { modelValueStart: start, modelValueEnd: end } = scan;
  if (start >= 0 && JSON.parse(text.slice(start, end)) === model) {
    const before = text.slice(0, start);
    const after = text.slice(end);
    return (target) => Buffer.from(before + JSON.stringify(target) + after);
  }
  // The scan could not place the member (should not happen for valid JSON): re-serialise instead.
  return (target) => Buffer.from(JSON.stringify({ ...parsed, model: target }));
}
