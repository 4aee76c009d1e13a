/**
 * Admin authentication: the operator logs in with CLERK_SYNC_ADMIN_TOKEN and gets a session
 * cookie (HttpOnly, SameSite=Strict, scoped to the admin path); API clients may send the token
 * as a bearer header instead. Sessions are stateless: `<expiry>.<nonce>.<hmac>` under a key
 * derived from the token, so changing the token logs everyone out and no session table is needed.
 *
 * CSRF: every POST made with the cookie must carry a token derived from that session (a hidden
 * form field or `x-csrf-token`), and a cross-site `Origin` is refused outright. Bearer requests
 * need neither: a browser never attaches that header on its own.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../core/safe-equal.js';

export const SESSION_COOKIE = 'clerk_sync_admin';
const SESSION_MS = 8 * 3600 * 1000;

export interface AdminAuth {
  /** The token presented at login or as a bearer header, compared in constant time. */
  checkToken(candidate: string | null | undefined): boolean;
  newSession(): { value: string; maxAgeSeconds: number };
  /** The session cookie's value when it is valid and unexpired. */
  session(request: Request): string | null;
  bearer(request: Request): boolean;
  csrfToken(session: string): string;
  checkCsrf(session: string, presented: string | null | undefined): boolean;
  cookie(value: string, maxAgeSeconds: number, request: Request, basePath: string): string;
}

function cookies(request: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export function isSecureRequest(request: Request): boolean {
  return new URL(request.url).protocol === 'https:' || request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

export function createAdminAuth(token: string, now: () => number = Date.now): AdminAuth {
  if (!token) throw new Error('The admin token must not be empty');
  const key = createHash('sha256').update('clerk-sync admin session\0').update(token).digest();
  const sign = (text: string) => createHmac('sha256', key).update(text).digest('base64url');

  const auth: AdminAuth = {
    checkToken: (candidate) => typeof candidate === 'string' && candidate.length > 0 && safeEqual(candidate, token),
    newSession() {
      const body = `${now() + SESSION_MS}.${randomBytes(18).toString('base64url')}`;
      return { value: `${body}.${sign(body)}`, maxAgeSeconds: SESSION_MS / 1000 };
    },
    session(request) {
      const value = cookies(request).get(SESSION_COOKIE);
      if (!value) return null;
      const parts = value.split('.');
      if (parts.length !== 3) return null;
      const [expires, nonce, mac] = parts as [string, string, string];
      if (!/^\d+$/.test(expires) || Number(expires) <= now()) return null;
      return safeEqual(mac, sign(`${expires}.${nonce}`)) ? value : null;
    },
    bearer(request) {
      const header = request.headers.get('authorization');
      const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
      return match ? auth.checkToken(match[1]!.trim()) : false;
    },
    csrfToken: (session) => sign(`csrf:${session}`),
    checkCsrf: (session, presented) => typeof presented === 'string' && presented.length > 0 && safeEqual(presented, sign(`csrf:${session}`)),
    cookie(value, maxAgeSeconds, request, basePath) {
      const attributes = [`${SESSION_COOKIE}=${value}`, `Path=${basePath}`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
      if (isSecureRequest(request)) attributes.push('Secure');
      return attributes.join('; ');
    },
  };
  return auth;
}

/** A POST from another site: `Origin` (or, failing that, `Referer`) names a different host. */
export function isCrossSite(request: Request): boolean {
  const source = request.headers.get('origin') ?? request.headers.get('referer');
  if (!source || source === 'null') return source === 'null';
  try {
    const from = new URL(source);
    const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host') ?? new URL(request.url).host;
    return from.host !== host;
  } catch {
    return true;
  }
}
