/**
 * What the fake upstream answers and what the load sends. Built once, as
 * buffers, so the upstream spends its time on sockets rather than on JSON.
 */

/** Upstream model names. A name containing "paced" selects the paced stream. */
export const MODEL = 'bench';
export const PACED_MODEL = 'bench-paced';

/** Events in each SSE answer (before `data: [DONE]`). */
export const STREAM_EVENTS = 20;
/** Gap between two events of the paced stream. */
export const PACED_INTERVAL_MS = 5;

const CREATED = 1_735_689_600;
const CONTENT =
  'Pinned revisions keep answers reproducible: the gateway names the backend, model and revision that served ' +
  'every response, so output drift can be traced to a fallback or to a moved tag instead of being guessed at. ' +
  'This text only pads the answer to a realistic size, close to what a short chat reply weighs on the wire, headers and usage included.';

/** A non-streamed chat completion of about 700 bytes. */
export const COMPLETION_BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0000000000000000000000',
    object: 'chat.completion',
    created: CREATED,
    model: MODEL,
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, message: { role: 'assistant', content: CONTENT, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 21, completion_tokens: 96, total_tokens: 117 },
  }),
);

/** One `data:` event of a chat.completion.chunk stream. */
export function streamEvent(index: number): Buffer {
  const delta = index === 0 ? { role: 'assistant', content: '' } : { content: ` token${index}` };
  const chunk = {
    id: 'chatcmpl-bench0000000000000000000000',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: MODEL,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: index === STREAM_EVENTS - 1 ? 'stop' : null }],
  };
  return Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`);
}

export const STREAM_EVENT_BUFFERS: readonly Buffer[] = Array.from({ length: STREAM_EVENTS }, (_, index) => streamEvent(index));
export const STREAM_DONE = Buffer.from('data: [DONE]\n\n');
/** The whole burst stream, written in one go. */
export const STREAM_BODY = Buffer.concat([...STREAM_EVENT_BUFFERS, STREAM_DONE]);

export const MODELS_BODY = Buffer.from(
  JSON.stringify({ object: 'list', data: [MODEL, PACED_MODEL].map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'bench' })) }),
);

/** Request bodies, compact JSON (the upstream looks for `"stream":true`). */
export function requestBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'Say hello to the benchmark in one short sentence.' },
    ],
    max_tokens: 64,
    temperature: 0,
    ...(stream ? { stream: true } : {}),
  });
}
