/**
 * Reading an /admin/status body as a StatusDocument, with the very schema the
 * gateway's document is typed by (observe/status-schema.ts). Unknown extra
 * fields are accepted (a newer gateway may add some).
 */
import { statusDocumentSchema, type StatusDocument } from '../observe/status-schema.js';

export type ParsedStatus = { readonly ok: true; readonly document: StatusDocument } | { readonly ok: false; readonly problem: string };

/** The body as a status document, or what is wrong with it, naming the first bad field. */
export function parseStatusDocument(body: string): ParsedStatus {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, problem: `the body is not JSON (starts with ${JSON.stringify(body.slice(0, 40))})` };
  }
  if (!isPinrouteDocument(value)) return { ok: false, problem: 'the body is JSON but not a pinroute status document (no "service": "pinroute")' };
  const result = statusDocumentSchema.safeParse(value);
  if (result.success) return { ok: true, document: result.data };
  const issue = result.error.issues[0];
  const where = issue ? issue.path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`)).join('').replace(/^\./, '') : '';
  return { ok: false, problem: `the document is not in the shape this CLI reads, at ${where || 'the top level'}: ${issue?.message ?? 'invalid'}` };
}

/** Enough for `--json`, which hands the body on untouched: a JSON object from pinroute. */
export function isPinrouteDocument(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'service' in value && value.service === 'pinroute';
}
