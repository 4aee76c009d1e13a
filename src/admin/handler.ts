/**
 * `handleAdmin(Request) → Response`: the admin pages and their JSON API under one base path
 * (default `/admin`). Every route but the login form needs a valid session cookie or the bearer
 * token; every state-changing request made with the cookie needs the session's CSRF token and a
 * same-site origin. Pages are server-rendered HTML with no script; the CSP forbids any.
 *
 * Routes (relative to the base): GET `` overview (with the latest backfill's progress), `/events` log, `/events/:id` detail
 * (`?reveal=1` shows personal fields), `/dead`, `/lookup?q=`, `/outbox`; POST `/login`,
 * `/logout`, `/events/:id/replay`, `/dead/replay`, `/outbox/replay`. JSON under `/api/`: GET
 * `stats`, `events`, `events/:id`, `lookup?q=`, `outbox`; POST `events/:id/replay`, `dead/replay`.
 */
import type { Logger } from 'pino';
import type { Queryable } from '../core/db.js';
import { isDatabaseUnavailable } from '../core/db.js';
import { errorBody, type ErrorCode } from '../core/errors.js';
import { queueStats } from '../metrics/queue-stats.js';
import { createAdminAuth, isCrossSite } from './auth.js';
import { maskPersonal } from './mask.js';
import { eventsPerMinute, getEvent, listEvents, lookupEntity, recentOutbox, storedTypes } from './queries.js';
import { readBackfillStatus } from '../backfill/state.js';
import { parseTrustProxy, resolveClientIp } from '../receive/client-ip.js';
import { deadPage, eventDetailPage, eventsPage, nextPageLink, parseFilter } from './views/events.js';
import { page, type PageOptions } from './views/layout.js';
import { loginPage, lookupPage, outboxPage, overviewPage } from './views/pages.js';
import { html, type Html } from './html.js';

export interface AdminOptions {
  /** The database (opened lazily by the service). */
  db: () => Promise<Queryable>;
  schema: string;
  /** CLERK_SYNC_ADMIN_TOKEN. */
  token: string;
  /** Where the admin is mounted. @default "/admin" */
  basePath?: string;
  /** Puts events back in line (the worker's replay); returns how many. */
  replayEvents: (ids: readonly string[]) => Promise<number>;
  /** Puts dead side effects back in line; returns how many. */
  replayOutbox?: () => Promise<number>;
  logger: Logger;
  now?: () => number;
  /** The proxy header to believe for the client address, as for webhooks (CLERK_SYNC_TRUST_PROXY). @default false: the peer */
  trustProxy?: string | false;
}

const FORM_LIMIT = 64 * 1024;
const NOTICES: Record<string, string> = {
  replayed: 'Replayed: the event is pending again and the worker will apply it.',
  'replayed-none': 'Nothing to replay: the event was no longer failed or dead.',
  'outbox-retried': 'Dead side effects are pending again.',
  'logged-out': 'Logged out.',
};

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function htmlResponse(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...headers } });
}

// PGlite returns an int8 above 2^53 as a BigInt, which JSON.stringify refuses: written as a number
// when it is exact, else as a string.
const jsonSafe = (_key: string, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v);

function jsonResponse(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value, jsonSafe), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS } });
}

function jsonError(code: ErrorCode, status: number, message?: string): Response {
  return new Response(errorBody(code, message), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS } });
}

function redirect(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 303, headers: { location, ...SECURITY_HEADERS, ...headers } });
}

/** Reads a urlencoded or JSON body of at most FORM_LIMIT bytes. */
async function readBody(request: Request): Promise<URLSearchParams | Record<string, unknown> | null> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > FORM_LIMIT) return null;
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > FORM_LIMIT) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if ((request.headers.get('content-type') ?? '').includes('application/json')) {
    try {
      const value = JSON.parse(text || '{}') as unknown;
      return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  return new URLSearchParams(text);
}

function field(body: URLSearchParams | Record<string, unknown> | null, name: string): string | undefined {
  if (!body) return undefined;
  if (body instanceof URLSearchParams) return body.get(name) ?? undefined;
  const v = body[name];
  return typeof v === 'string' ? v : undefined;
}

function ids(body: URLSearchParams | Record<string, unknown> | null): string[] {
  if (!body) return [];
  const list = body instanceof URLSearchParams ? body.getAll('id') : Array.isArray(body.ids) ? body.ids.filter((v): v is string => typeof v === 'string') : [];
  return [...new Set(list)].slice(0, 500);
}

export function createAdminHandler(options: AdminOptions): (request: Request, context?: { clientIp?: string }) => Promise<Response> {
  const base = (options.basePath ?? '/admin').replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const auth = createAdminAuth(options.token, now);
  const schema = options.schema;
  // Wrong tokens (login form or bearer) are counted per client address, found by the same rules as
  // the webhook path (the peer, or the configured proxy header; never a header nobody vouches for).
  // Guessing a long random token is hopeless anyway; this keeps guesses out of the way of the
  // database and the logs. The right token is never refused, however many wrong ones came from
  // its address: a stranger's guesses must not lock the operator out.
  const trust = parseTrustProxy(options.trustProxy ?? false);
  const failures = new Map<string, { count: number; since: number }>();
  const WINDOW_MS = 60_000;
  const MAX_FAILURES = 10;

  /** Counts a wrong token; true when this address is past its budget (answer 429, log nothing more). */
  const recordFailure = (key: string): boolean => {
    const f = failures.get(key);
    if (!f || now() - f.since > WINDOW_MS) {
      // Bounded memory without forgetting everyone at once: expired entries go first, then the oldest.
      if (failures.size >= 10_000) {
        for (const [k, v] of failures) if (now() - v.since > WINDOW_MS) failures.delete(k);
        for (const k of failures.keys()) {
          if (failures.size < 9_000) break;
          failures.delete(k);
        }
      }
      failures.set(key, { count: 1, since: now() });
      return false;
    }
    f.count++;
    return f.count > MAX_FAILURES;
  };
  const clientOf = (request: Request, context?: { clientIp?: string }) =>
    resolveClientIp(context?.clientIp, (name) => request.headers.get(name), trust) ?? 'unknown';

  const render = (opts: Omit<PageOptions, 'base'>, body: Html, status = 200) => htmlResponse(page({ ...opts, base }, body), status);

  return async function handleAdmin(request: Request, context?: { clientIp?: string }): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return jsonError('not_found', 404);
    const path = url.pathname.slice(base.length).replace(/\/+$/, '');
    const method = request.method.toUpperCase();
    const isApi = path === '/api' || path.startsWith('/api/');
    const session = auth.session(request);
    const bearer = !session && auth.bearer(request);
    const client = clientOf(request, context);
    if (!session && !bearer && request.headers.has('authorization')) {
      const over = recordFailure(client);
      if (!over) options.logger.warn({ event: 'admin_bearer_failed' }, 'admin API: wrong bearer token');
      if (over) return new Response(errorBody('rate_limited', 'Too many wrong tokens from this address; wait a minute'), { status: 429, headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '60', ...SECURITY_HEADERS } });
      return jsonError('unauthorized', 401, 'Wrong bearer token');
    }

    if (path === '/login' && method === 'POST') {
      if (isCrossSite(request)) return jsonError('forbidden', 403, 'Cross-site login refused');
      const body = await readBody(request);
      if (!auth.checkToken(field(body, 'token'))) {
        if (recordFailure(client)) return htmlResponse(page({ title: 'Sign in', base }, loginPage(base, 'Too many failed attempts; wait a minute.')), 429, { 'retry-after': '60' });
        options.logger.warn({ event: 'admin_login_failed' }, 'admin login failed');
        return htmlResponse(page({ title: 'Sign in', base }, loginPage(base, 'That token is not the admin token.')), 401);
      }
      const fresh = auth.newSession();
      options.logger.info({ event: 'admin_login' }, 'admin logged in');
      return redirect(base, { 'set-cookie': auth.cookie(fresh.value, fresh.maxAgeSeconds, request, base) });
    }
    if (!session && !bearer) {
      if (isApi || method !== 'GET') return jsonError('unauthorized', 401, 'Log in at the admin page or send Authorization: Bearer <CLERK_SYNC_ADMIN_TOKEN>');
      return htmlResponse(page({ title: 'Sign in', base }, loginPage(base)), 401);
    }
    if (path === '/login') return redirect(base);

    if (method !== 'GET' && method !== 'HEAD') {
      if (method !== 'POST') return jsonError('method_not_allowed', 405);
      if (session && isCrossSite(request)) return jsonError('forbidden', 403, 'Cross-site request refused');
    }
    const csrf = session ? auth.csrfToken(session) : '';

    try {
      const db = await options.db();
      if (method === 'POST') {
        const body = await readBody(request);
        if (session && !auth.checkCsrf(session, field(body, 'csrf') ?? request.headers.get('x-csrf-token'))) {
          return jsonError('forbidden', 403, 'Missing or wrong CSRF token: reload the page and try again');
        }
        if (path === '/logout') return redirect(`${base}?notice=logged-out`, { 'set-cookie': auth.cookie('', 0, request, base) });
        const replayOne = /^(?:\/api)?\/events\/([^/]+)\/replay$/.exec(path);
        if (replayOne || path === '/dead/replay' || path === '/api/dead/replay') {
          const selected = replayOne ? [decodeURIComponent(replayOne[1]!)] : ids(body);
          const n = selected.length ? await options.replayEvents(selected) : 0;
          options.logger.info({ event: 'admin_replay', events: selected.length, replayed: n }, 'admin replayed events');
          if (isApi) return jsonResponse({ replayed: n });
          const back = replayOne ? `${base}/events/${replayOne[1]}` : `${base}/dead`;
          return redirect(`${back}?notice=${n ? 'replayed' : 'replayed-none'}`);
        }
        if (path === '/outbox/replay' && options.replayOutbox) {
          const n = await options.replayOutbox();
          options.logger.info({ event: 'admin_outbox_replay', replayed: n }, 'admin retried dead side effects');
          return redirect(`${base}/outbox?notice=outbox-retried`);
        }
        return jsonError('not_found', 404);
      }

      const t = now();
      const noticeKey = url.searchParams.get('notice');
      const notice = noticeKey && NOTICES[noticeKey] ? { text: NOTICES[noticeKey]!, error: noticeKey.endsWith('-none') } : undefined;
      const reveal = url.searchParams.get('reveal') === '1';

      if (isApi) {
        const api = path.slice(4);
        if (api === '/stats') return jsonResponse(await queueStats(db, schema, { full: true }));
        if (api === '/backfill') return jsonResponse({ backfill: await readBackfillStatus(db, schema) });
        if (api === '/events') {
          const { filter } = parseFilter(url.searchParams);
          return jsonResponse({ events: await listEvents(db, schema, filter) });
        }
        const one = /^\/events\/([^/]+)$/.exec(api);
        if (one) {
          const event = await getEvent(db, schema, decodeURIComponent(one[1]!));
          if (!event) return jsonError('not_found', 404, 'No such event');
          if (reveal) options.logger.info({ event: 'admin_reveal', svixId: event.id }, 'admin revealed personal fields of an event');
          return jsonResponse({ ...event, payload: reveal ? event.payload : maskPersonal(event.payload) });
        }
        if (api === '/lookup') {
          const found = await lookupEntity(db, schema, url.searchParams.get('q') ?? '');
          return found ? jsonResponse(found) : jsonError('not_found', 404, 'Nothing found');
        }
        if (api === '/outbox') return jsonResponse({ outbox: await recentOutbox(db, schema, { status: url.searchParams.get('status') ?? undefined }) });
        return jsonError('not_found', 404);
      }

      if (path === '') {
        const [stats, buckets, dead, backfill] = [await queueStats(db, schema), await eventsPerMinute(db, schema), await listEvents(db, schema, { status: 'dead', limit: 5 }), await readBackfillStatus(db, schema)];
        return render({ title: 'Overview', active: 'overview', csrf, notice }, overviewPage(base, stats, buckets, dead, t, csrf, backfill));
      }
      if (path === '/events') {
        const { filter, form } = parseFilter(url.searchParams);
        const rows = await listEvents(db, schema, filter);
        const types = await storedTypes(db, schema);
        return render({ title: 'Events', active: 'events', csrf, notice }, eventsPage(base, form, rows, types, t, nextPageLink(base, form, rows, filter.limit ?? 50)));
      }
      const detail = /^\/events\/([^/]+)$/.exec(path);
      if (detail) {
        const event = await getEvent(db, schema, decodeURIComponent(detail[1]!));
        if (!event) return render({ title: 'Not found', active: 'events', csrf }, notFound(), 404);
        if (reveal) options.logger.info({ event: 'admin_reveal', svixId: event.id }, 'admin revealed personal fields of an event');
        const payload = JSON.stringify(reveal ? event.payload : maskPersonal(event.payload), null, 2);
        return render({ title: event.type, active: 'events', csrf, notice }, eventDetailPage(base, event, payload, reveal, csrf, t));
      }
      if (path === '/dead') {
        const rows = await listEvents(db, schema, { status: 'dead', limit: 200 });
        return render({ title: 'Dead letters', active: 'dead', csrf, notice }, deadPage(base, rows, csrf, t));
      }
      if (path === '/lookup') {
        const q = (url.searchParams.get('q') ?? '').trim().slice(0, 320);
        const found = q ? await lookupEntity(db, schema, q) : null;
        return render({ title: 'Lookup', active: 'lookup', csrf, notice }, lookupPage(base, q, found, t));
      }
      if (path === '/outbox') {
        const status = ['pending', 'failed', 'dead', 'sent'].find((s) => s === url.searchParams.get('status'));
        const [stats, rows] = [await queueStats(db, schema, { full: true }), await recentOutbox(db, schema, { status, limit: 100 })];
        return render({ title: 'Outbox', active: 'outbox', csrf, notice }, outboxPage(base, stats, rows, status, csrf, t));
      }
      return render({ title: 'Not found', csrf }, notFound(), 404);
    } catch (error) {
      const down = isDatabaseUnavailable(error);
      options.logger.error({ err: { message: (error as Error)?.message, code: (error as { code?: string })?.code } }, 'admin request failed');
      if (isApi) return jsonError(down ? 'database_unavailable' : 'internal_error', down ? 503 : 500);
      return htmlResponse(page({ title: 'Error', base, csrf }, htmlError(down)), down ? 503 : 500);
    }
  };
}

function htmlError(down: boolean): Html {
  return html`<div class="panel empty">${down ? 'The database is unreachable right now. The page will work again once it is back.' : 'Something went wrong; the server log has the details.'}</div>`;
}

function notFound(): Html {
  return html`<div class="panel empty">Not found.</div>`;
}
