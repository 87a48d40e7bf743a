/**
 * `pinroute status [--url U] [--json]`: reads a running gateway's /admin/status
 * and prints it as a table (or, with --json, the body as received, for
 * machines). Exit 0 printed; 1 the gateway could not be read (unreachable,
 * refused, not a status document), with what to do on stderr; 2 a URL that is
 * not an http(s) URL.
 */
import type { Environment } from '../config/interpolate.js';
import { isPinrouteDocument, parseStatusDocument } from './status-document.js';
import { renderStatus } from './status-render.js';
import { colourEnabled } from './terminal.js';

const TIMEOUT_MS = 5000;
const STATUS_PATH = '/admin/status';

export async function runStatus(url: string, env: Environment, json: boolean): Promise<number> {
  const endpoint = statusEndpoint(url);
  if (endpoint === null) {
    process.stderr.write(`pinroute status: --url must be an http(s) URL of the gateway, e.g. http://127.0.0.1:8080, got "${url}"\n`);
    return 2;
  }
  if (endpoint.username !== '' || endpoint.password !== '') {
    // fetch refuses such URLs, and echoing one in an error would print the secret.
    process.stderr.write('pinroute status: --url must not carry credentials (user:pass@); set PINROUTE_ADMIN_KEY instead\n');
    return 2;
  }
  const fetched = await fetchStatus(endpoint, env['PINROUTE_ADMIN_KEY'] ?? '');
  if (!fetched.ok) {
    process.stderr.write(`pinroute status: ${fetched.problem}\n`);
    return 1;
  }
  if (json) {
    if (!isJsonPinrouteDocument(fetched.body)) return notAStatusDocument(endpoint, 'the body is not a pinroute status document (no "service": "pinroute")');
    process.stdout.write(fetched.body.endsWith('\n') ? fetched.body : `${fetched.body}\n`);
    return 0;
  }
  const parsed = parseStatusDocument(fetched.body);
  if (!parsed.ok) return notAStatusDocument(endpoint, parsed.problem);
  const terminal = process.stdout.isTTY === true;
  const lines = renderStatus(parsed.document, {
    colour: colourEnabled(env, terminal),
    source: endpoint.href.slice(0, -STATUS_PATH.length),
    ...(terminal && process.stdout.columns ? { width: process.stdout.columns } : {}),
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** `http://host:8080`, `http://host:8080/` and `http://host:8080/admin/status` all mean the same endpoint. */
export function statusEndpoint(url: string): URL | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const base = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = base.endsWith(STATUS_PATH) ? base : `${base}${STATUS_PATH}`;
  parsed.search = '';
  parsed.hash = '';
  return parsed;
}

type Fetched = { readonly ok: true; readonly body: string } | { readonly ok: false; readonly problem: string };

async function fetchStatus(endpoint: URL, adminKey: string): Promise<Fetched> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (adminKey !== '') headers['authorization'] = `Bearer ${adminKey}`;
  let response: Response;
  try {
    // redirect: 'manual' so the admin key is never sent on to wherever a redirect points.
    response = await fetch(endpoint, { headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    const reason = networkReason(error);
    // https://fetch.spec.whatwg.org/#port-blocking: undici's fetch refuses these ports before connecting.
    if (reason === 'bad port') return { ok: false, problem: `cannot read ${endpoint.href}: port ${endpoint.port} is on fetch's blocked-port list; serve the gateway on another port` };
    return { ok: false, problem: `cannot reach ${endpoint.href}: ${reason}. Is the gateway running there? Pass --url or set PINROUTE_URL.` };
  }
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    return { ok: false, problem: `${endpoint.href} answered ${response.status} but the body could not be read: ${networkReason(error)}` };
  }
  if (response.status === 200) return { ok: true, body };
  return { ok: false, problem: refusal(endpoint, response.status, body, adminKey !== '') };
}

function refusal(endpoint: URL, status: number, body: string, sentKey: boolean): string {
  const said = `${endpoint.href} answered ${status}${gatewayMessage(body)}`;
  switch (status) {
    case 401:
      return sentKey
        ? `${said}. PINROUTE_ADMIN_KEY was rejected: set it to the gateway's server.admin_key.`
        : `${said}. The gateway has an admin key: set PINROUTE_ADMIN_KEY to its server.admin_key.`;
    case 403:
      return `${said}. Without server.admin_key the gateway answers /admin/* on loopback only: run it on the gateway host, or configure server.admin_key and set PINROUTE_ADMIN_KEY.`;
    case 404:
      return `${said}. Is this a pinroute gateway? Pass its base URL with --url (or PINROUTE_URL).`;
    default:
      return status >= 300 && status < 400
        ? `${said} (a redirect, not followed so the admin key stays here). Pass the gateway's own URL with --url.`
        : `${said}. Check the gateway's log.`;
  }
}

/** The gateway's own explanation, when the body is its OpenAI-style error envelope. */
function gatewayMessage(body: string): string {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null && 'error' in value && typeof value.error === 'object' && value.error !== null && 'message' in value.error) {
      return typeof value.error.message === 'string' ? ` (${value.error.message})` : '';
    }
  } catch {
    // Not JSON: a proxy's page or another server; the status code says enough.
  }
  return '';
}

function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  // undici's fetch reports "fetch failed" and keeps the socket error (ECONNREFUSED...) as its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : null;
  const message = cause instanceof Error ? cause.message : String(cause);
  return code !== null && !message.includes(code) ? `${code}: ${message}` : message;
}

function isJsonPinrouteDocument(body: string): boolean {
  try {
    return isPinrouteDocument(JSON.parse(body));
  } catch {
    return false;
  }
}

function notAStatusDocument(endpoint: URL, problem: string): number {
  process.stderr.write(`pinroute status: ${endpoint.href} answered 200, but ${problem}. Is --url the gateway's base URL, and is the gateway the same pinroute version as this CLI?\n`);
  return 1;
}
