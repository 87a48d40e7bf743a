/** Error bodies of real backends (test/fixtures/backends) normalised to one envelope. */
import { describe, expect, it } from 'vitest';
import { fixtureText } from '../../test/support/fixtures.js';
import { isContextLengthError, normalizeErrorBody, retryAfterMs } from './error-body.js';

describe('normalizeErrorBody', () => {
  it.each([
    ['openai-error-429-rate-limit.json', 429, 'tokens'],
    ['vllm-error-404-model.json', 404, 'NotFoundError'],
    ['vllm-error-404-model-legacy-flat.json', 404, 'NotFoundError'],
    ['sglang-error-400.json', 400, 'BadRequestError'],
    ['tgi-error-424-generation.json', 424, 'generation'],
    ['ollama-error-404-model.json', 404, 'invalid_request_error'],
    ['llamacpp-error-501.json', 501, 'not_supported_error'],
    ['triton-openai-error-400-unknown-model.json', 400, 'invalid_request_error'],
    ['azure-error-429.json', 429, 'rate_limit_error'],
  ])('%s', (file, status, type) => {
    const error = normalizeErrorBody(status, fixtureText(file));
    expect(error.message.length).toBeGreaterThan(5);
    expect(error.type).toBe(type);
    expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
  });

  it('handles plain text and empty bodies', () => {
    expect(normalizeErrorBody(502, 'Bad Gateway').message).toBe('Bad Gateway');
    expect(normalizeErrorBody(500, '').message).toBe('upstream answered 500 with an empty body');
  });

  it('keeps an OpenAI envelope as it is', () => {
    expect(normalizeErrorBody(400, fixtureText('openai-error-400.json'))).toEqual(JSON.parse(fixtureText('openai-error-400.json')).error);
  });
});

describe('isContextLengthError', () => {
  it.each([
    ['vllm-error-400.json', 400, true],
    ['llamacpp-error-400-context.json', 400, true],
    ['tgi-error-422-validation.json', 422, true],
    ['openai-error-400.json', 400, false],
    ['sglang-error-400.json', 400, false],
    ['llamacpp-error-400.json', 400, false],
    ['vllm-error-400.json', 500, false],
  ])('%s at %i → %s', (file, status, expected) => {
    expect(isContextLengthError(status, normalizeErrorBody(status, fixtureText(file)))).toBe(expected);
  });

  it('recognises OpenAI\'s context_length_exceeded code', () => {
    const body = JSON.stringify({ error: { message: 'too long', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
    expect(isContextLengthError(400, normalizeErrorBody(400, body))).toBe(true);
  });
});

describe('retryAfterMs', () => {
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' })).toBe(250);
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'retry-after': '0.5' })).toBe(500);
    const now = Date.parse('2026-12-03T10:00:00Z');
    expect(retryAfterMs({ 'retry-after': 'Thu, 03 Dec 2026 10:00:30 GMT' }, now)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeNull();
    expect(retryAfterMs({})).toBeNull();
  });
});
