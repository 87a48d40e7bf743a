/**
 * Upstream error bodies come in many shapes (see ../shared/backend-facts.md):
 * OpenAI's envelope, vLLM/SGLang's flat `{object:"error",...}`, TGI and Ollama's
 * `{error:"text", error_type}`, FastAPI's `{detail}`, or plain text. Clients get
 * one shape, the OpenAI envelope, with the upstream status kept.
 */
import type { UpstreamErrorBody } from '../errors.js';

export function normalizeErrorBody(status: number, text: string): UpstreamErrorBody {
  const fallbackType = status >= 500 ? 'server_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error';
  const parsed = parseJson(text);
  if (isRecord(parsed)) {
    const nested = parsed['error'];
    if (isRecord(nested)) return fromFields(nested, fallbackType, status);
    if (typeof nested === 'string') {
      const type = typeof parsed['error_type'] === 'string' ? parsed['error_type'] : fallbackType;
      return { message: nested, type, param: null, code: null };
    }
    if (typeof parsed['message'] === 'string') return fromFields(parsed, fallbackType, status);
    if (typeof parsed['detail'] === 'string') return { message: parsed['detail'], type: fallbackType, param: null, code: null };
  }
  const trimmed = text.trim().slice(0, 500);
  return { message: trimmed === '' ? `upstream answered ${status} with an empty body` : trimmed, type: fallbackType, param: null, code: null };
}

/**
 * A prompt too long for this target's context window is worth sending to the next
 * target (which may have a longer one). Backends signal it by code where they have
 * one (OpenAI `context_length_exceeded`, llama.cpp `exceed_context_size_error`);
 * vLLM, SGLang and TGI only in the message, so those phrasings are matched too.
 */
export function isContextLengthError(status: number, error: UpstreamErrorBody): boolean {
  // TGI reports input validation, including token limits, as 422 rather than 400.
  if (status !== 400 && status !== 422) return false;
  if (error.code === 'context_length_exceeded' || error.type === 'exceed_context_size_error') return true;
  return CONTEXT_LENGTH_MESSAGES.some((pattern) => pattern.test(error.message));
}

const CONTEXT_LENGTH_MESSAGES = [
  /maximum context length/i,
  /context length (is|of|exceeded)/i,
  /exceeds? the (available )?context (size|window|length)/i,
  /context window/i,
  /`inputs` tokens \+ `max_new_tokens` must be <=/,
  /prompt is too long/i,
];

/**
 * Milliseconds the upstream asks us to wait: `retry-after-ms` (Azure, OpenAI SDKs)
 * first, then `retry-after` as seconds or an HTTP-date (RFC 9110 §10.2.3).
 */
export function retryAfterMs(headers: Readonly<Record<string, string | string[] | undefined>>, now: number = Date.now()): number | null {
  const milliseconds = firstHeader(headers['retry-after-ms']);
  if (milliseconds !== undefined) {
    const value = Number.parseFloat(milliseconds);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const retryAfter = firstHeader(headers['retry-after']);
  if (retryAfter === undefined) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(retryAfter)) return Math.ceil(Number.parseFloat(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function fromFields(fields: Record<string, unknown>, fallbackType: string, status: number): UpstreamErrorBody {
  const message = typeof fields['message'] === 'string' ? fields['message'] : `upstream answered ${status}`;
  const type = typeof fields['type'] === 'string' ? fields['type'] : fallbackType;
  const param = typeof fields['param'] === 'string' ? fields['param'] : null;
  const rawCode = fields['code'];
  const code = typeof rawCode === 'string' || typeof rawCode === 'number' ? rawCode : null;
  return { message, type, param, code };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
