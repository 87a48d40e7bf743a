/**
 * The `model` of a JSON completion, read from its first bytes without parsing the
 * whole body. Text inside strings cannot match: a real member is preceded by `{`
 * or `,`, while inside a JSON string its quotes would be escaped (`\"model\"`).
 * The first member named `model` wins; completion, embedding and chunk objects
 * have no nested one before the top-level member.
 */
const MODEL_MEMBER = /[{,]\s*"model"\s*:\s*"((?:[^"\\]|\\.)*)"/;

export function responseModel(jsonText: string): string | null {
  const match = MODEL_MEMBER.exec(jsonText);
  if (!match || match[1] === undefined) return null;
  try {
    return JSON.parse(`"${match[1]}"`) as string;
  } catch {
    return null;
  }
}
