import { describe, expect, it } from 'vitest';
import { fixture, fixtureText } from '../../test/support/fixtures.js';
import { endsWithDone, readFirstEvent } from './sse.js';

const event = (data: string) => `data: ${data}\n\n`;

describe('readFirstEvent', () => {
  it('waits for a complete event', () => {
    expect(readFirstEvent('data: {"model":"m"')).toEqual({ kind: 'incomplete' });
  });

  it.each([
    ['vllm-stream-chunk.json', 'meta-llama/Llama-3.1-8B-Instruct'],
    ['openai-stream-chunk.json', 'gpt-4o-mini-2024-07-18'],
    ['tgi-stream-chunk.json', fixture('tgi-stream-chunk.json')['model'] as string],
    ['ollama-v1-stream-chunk.json', fixture('ollama-v1-stream-chunk.json')['model'] as string],
  ])('reads the model of a real first chunk (%s)', (file, model) => {
    expect(readFirstEvent(event(JSON.stringify(fixture(file))))).toEqual({ kind: 'data', model });
  });

  it('skips comments and handles CRLF and multi-line data', () => {
    expect(readFirstEvent(': ping\r\n\r\ndata: {"model":\r\ndata: "m"}\r\n\r\n')).toEqual({ kind: 'data', model: 'm' });
  });

  it.each(['tgi-stream-error-event.json', 'sglang-stream-error-event.json'])('reports an in-band error (%s)', (file) => {
    expect(readFirstEvent(event(fixtureText(file).replace(/\n/g, ''))).kind).toBe('error');
  });

  it('reports `event: error` and malformed data', () => {
    expect(readFirstEvent('event: error\ndata: {"message":"x"}\n\n').kind).toBe('error');
    expect(readFirstEvent(event('{"choices": [')).kind).toBe('error');
  });

  it('treats an immediate [DONE] as an empty stream', () => {
    expect(readFirstEvent(event('[DONE]'))).toEqual({ kind: 'done' });
  });
});

describe('endsWithDone', () => {
  it('accepts the terminator with or without the space and trailing newlines', () => {
    expect(endsWithDone('..."stop"}]}\n\ndata: [DONE]\n\n')).toBe(true);
    expect(endsWithDone('data:[DONE]')).toBe(true);
    expect(endsWithDone('{"finish_reason":"stop"}\n\n')).toBe(false);
  });
});
