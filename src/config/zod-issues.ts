/**
 * zod issues → config problems a person can act on: "unknown key "revison"; did
 * you mean "revision"?" rather than "Unrecognized key". Known keys are read from
 * the schema itself, so suggestions can never drift from what is accepted.
 */
import type { z } from 'zod';
import { configError, type ConfigPath, type ConfigProblem } from './problems.js';

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

export function describeIssue(issue: Issue, root: Schema): ConfigProblem[] {
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = objectKeysAt(root, path);
      return issue.keys.map((key) => ({
        ...configError([...path, key], `unknown key "${key}"${suggestion(key, known)}`),
        atKey: true,
      }));
    }
    case 'invalid_key': {
      const reason = issue.issues[0]?.message ?? issue.message;
      return [{ ...configError(path, `invalid name: ${reason}`), atKey: true }];
    }
    case 'invalid_type': {
      if (issue.message.endsWith('received undefined')) {
        return [configError(path, `required key "${String(path.at(-1))}" is missing (expected ${article(issue.expected)})`)];
      }
      return [configError(path, issue.message.replace(/^Invalid input: /, ''))];
    }
    case 'invalid_union':
      return [configError(path, 'expected a list of targets, or an object with "targets"')];
    default:
      return [configError(path, issue.message.replace(/^(Invalid (input|option)|Too (small|big)): /, ''))];
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** The keys an object schema accepts at `path`, or [] when the path is not an object. */
function objectKeysAt(root: Schema, path: ConfigPath): string[] {
  let schema: Schema | undefined = root;
  for (const segment of path) {
    schema = schema ? childSchema(unwrap(schema), segment) : undefined;
  }
  const object = schema ? unwrap(schema) : undefined;
  return object && object._zod.def.type === 'object' ? Object.keys((object as z.core.$ZodObject)._zod.def.shape) : [];
}

/** Sees through optional/default/preprocess wrappers to the schema that holds keys. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; depth < 10; depth++) {
    const def = current._zod.def as { type: string; innerType?: Schema; in?: Schema; out?: Schema };
    if (['optional', 'default', 'prefault', 'nullable'].includes(def.type) && def.innerType) current = def.innerType;
    // A preprocess pipe holds the schema on its out side, a transform pipe on its in side.
    else if (def.type === 'pipe' && def.out && def.in) current = def.out._zod.def.type === 'transform' ? def.in : def.out;
    else break;
  }
  return current;
}

function childSchema(schema: Schema, segment: string | number): Schema | undefined {
  const def = schema._zod.def as { type: string; shape?: Record<string, Schema>; valueType?: Schema; element?: Schema };
  if (def.type === 'object') return def.shape?.[String(segment)];
  if (def.type === 'record') return def.valueType;
  if (def.type === 'array') return def.element;
  return undefined;
}

function suggestion(key: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best) return `; did you mean "${best}"?`;
  return known.length > 0 ? `; expected one of: ${known.join(', ')}` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
