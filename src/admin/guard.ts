/**
 * The one gate in front of every admin route: authentication (session cookie or bearer token,
 * wrong tokens throttled per client address), then, for a POST, the cross-site and CSRF checks
 * and the body, read with the receiver's bounded reader within the route's limit. A route's
 * handler runs only with the grant this returns.
 */
import type { Logger } from 'pino';
import { readBodyWithLimit } from '../receive/body.js';
import { parseTrustProxy, resolveClientIp } from '../receive/client-ip.js';
import { isCrossSite, type AdminAuth } from './auth.js';
import { field, type AdminRoute, type FormBody } from './routes.js';
import { htmlResponse, jsonError } from './responses.js';
import { page } from './views/layout.js';
import { loginPage } from './views/pages.js';

export interface Grant {
  /** The valid session cookie, or null for a bearer request (or the public login form). */
  session: string | null;
  body: FormBody;
  /** The client address wrong tokens are counted against. */
  client: string;
}

export interface AdminGuard {
  /**
   * Lets the request through to `route` (undefined: no route has this path and method, which
   * still needs credentials, so that only the operator learns which paths exist) or answers the
   * refusal. `api` picks JSON over the login page for a 401.
   */
  check(request: Request, route: AdminRoute | undefined, target: { api: boolean; clientIp?: string }): Promise<Grant | Response>;
  /** Counts a wrong login token; true when the address is past its budget (answer 429, log nothing more). */
  recordFailure(client: string): boolean;
}

const WINDOW_MS = 60_000;
const MAX_FAILURES = 10;
const MAX_ADDRESSES = 10_000;

export function createAdminGuard(options: { auth: AdminAuth; base: string; logger: Logger; now: () => number; trustProxy: string | false }): AdminGuard {
  const { auth, base, logger, now } = options;
  // Wrong tokens (login form or bearer) are counted per client address, found by the same rules as
  // the webhook path (the peer, or the configured proxy header; never a header nobody vouches for).
  // Guessing a long random token is hopeless anyway; this keeps guesses out of the way of the
  // database and the logs. The right token is never refused, however many wrong ones came from
  // its address: a stranger's guesses must not lock the operator out.
  const trust = parseTrustProxy(options.trustProxy);
  const failures = new Map<string, { count: number; since: number }>();

  const recordFailure = (key: string): boolean => {
    const f = failures.get(key);
    if (!f || now() - f.since > WINDOW_MS) {
      // Bounded memory without forgetting everyone at once: expired entries go first, then the oldest.
      if (failures.size >= MAX_ADDRESSES) {
        for (const [k, v] of failures) if (now() - v.since > WINDOW_MS) failures.delete(k);
        for (const k of failures.keys()) {
          if (failures.size < MAX_ADDRESSES * 0.9) break;
          failures.delete(k);
        }
      }
      failures.set(key, { count: 1, since: now() });
      return false;
    }
    f.count++;
    return f.count > MAX_FAILURES;
  };

  async function check(request: Request, route: AdminRoute | undefined, target: { api: boolean; clientIp?: string }): Promise<Grant | Response> {
    const session = auth.session(request);
    const bearer = !session && auth.bearer(request);
    const client = resolveClientIp(target.clientIp, (name) => request.headers.get(name), trust) ?? 'unknown';
    if (!session && !bearer && request.headers.has('authorization')) {
      const over = recordFailure(client);
      if (over) return jsonError('rate_limited', 429, 'Too many wrong tokens from this address; wait a minute', { 'retry-after': '60' });
      logger.warn({ event: 'admin_bearer_failed' }, 'admin API: wrong bearer token');
      return jsonError('unauthorized', 401, 'Wrong bearer token');
    }
    if (!route?.public && !session && !bearer) {
      if (target.api || request.method.toUpperCase() !== 'GET') return jsonError('unauthorized', 401, 'Log in at the admin page or send Authorization: Bearer <CLERK_SYNC_ADMIN_TOKEN>');
      return htmlResponse(page({ title: 'Sign in', base }, loginPage(base)), 401);
    }
    if (route?.method !== 'POST') return { session, body: null, client };

    // A browser attaches the cookie to a forged cross-site form, never the bearer header; the
    // login form gets the origin check too, so no other site can log a browser in.
    if ((route.public || session) && isCrossSite(request)) return jsonError('forbidden', 403, route.public ? 'Cross-site login refused' : 'Cross-site request refused');
    const read = await readBodyWithLimit(request, route.bodyLimit);
    if (!read.ok) return jsonError('payload_too_large', 413, `The body is larger than ${route.bodyLimit} bytes`);
    const body = parseForm(read.body, request.headers.get('content-type'));
    if (!route.public && session && !auth.checkCsrf(session, field(body, 'csrf') ?? request.headers.get('x-csrf-token'))) {
      return jsonError('forbidden', 403, 'Missing or wrong CSRF token: reload the page and try again');
    }
    return { session, body, client };
  }

  return { check, recordFailure };
}

function parseForm(bytes: Uint8Array, contentType: string | null): FormBody {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if ((contentType ?? '').includes('application/json')) {
    try {
      const value = JSON.parse(text || '{}') as unknown;
      return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  return new URLSearchParams(text);
}
