import { describe, expect, it } from 'vitest';
import { scanJson } from './json-scan.js';
import { parseProxyBody, type ProxyBody } from './request-body.js';

function parsed(text: string): ProxyBody {
  const body = parseProxyBody(Buffer.from(text), 64);
  if (!('withModel' in body)) throw new Error(`unexpected error ${body.code}`);
  return body;
}

describe('the body is forwarded with only model replaced', () => {
  it.each([
    ['compact', '{"model":"route","messages":[]}'],
    ['spaced and last', '{ "messages": [ {"role": "user", "content": "x"} ],\n  "model" :  "route" }'],
    ['escaped quotes and a "model" inside strings', '{"messages":[{"content":"\\"model\\": \\"evil\\""}],"model":"route"}'],
    ['nested model keys', '{"tools":[{"model":"tool-model"}],"metadata":{"model":"m"},"model":"route"}'],
    ['unicode before model', '{"messages":[{"content":"héllo ✓ 🚀"}],"model":"route"}'],
    ['duplicate model keys: the last wins, as in JSON.parse', '{"model":42,"model":"route"}'],
  ])('%s', (_name, text) => {
    const out = parsed(text).withModel('upstream/model-1').toString('utf8');
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), model: 'upstream/model-1' });
    expect(out.replace('"upstream/model-1"', '"route"')).toBe(text);
  });

  it('keeps big integers and number formatting exactly', () => {
    const text = '{"model":"route","seed":12345678901234567890,"temperature":1.0,"top_p":1e0}';
    expect(parsed(text).withModel('m').toString()).toBe('{"model":"m","seed":12345678901234567890,"temperature":1.0,"top_p":1e0}');
  });

  it('reads stream: true only when it is the boolean true', () => {
    expect(parsed('{"model":"r","stream":true}').stream).toBe(true);
    expect(parsed('{"model":"r","stream":"true"}').stream).toBe(false);
    expect(parsed('{"model":"r"}').stream).toBe(false);
  });
});

describe('bad bodies are errors, not exceptions', () => {
  it.each([
    ['', 'invalid_json'],
    ['   ', 'invalid_json'],
    ['{', 'invalid_json'],
    ['{"model": "r",}', 'invalid_json'],
    ['null', 'invalid_request'],
    ['[]', 'invalid_request'],
    ['{"messages": []}', 'invalid_request'],
    ['{"model": ""}', 'invalid_request'],
    ['{"model": ["r"]}', 'invalid_request'],
  ])('%j → %s', (text, code) => {
    const body = parseProxyBody(Buffer.from(text), 64);
    expect('code' in body && body.code).toBe(code);
  });

  it('refuses nesting deeper than the limit before parsing', () => {
    const deep = `{"model":"r","x":${'['.repeat(100)}${']'.repeat(100)}}`;
    expect(scanJson(deep, 64).depthExceeded).toBe(true);
    expect(scanJson(deep, 200).depthExceeded).toBe(false);
    const body = parseProxyBody(Buffer.from(deep), 64);
    expect('code' in body && body.code).toBe('invalid_request');
  });
});
