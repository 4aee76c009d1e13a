/**
 * The admin's route table: method and path (relative to the base, `:name` for one path segment)
 * → handler. The handler runs only after the guard (./guard.ts) let the request through, so no
 * handler checks credentials or CSRF itself: every route is private unless marked `public`, and
 * every POST is state-changing, so it gets the cross-site and CSRF checks and its body is read
 * with the route's `bodyLimit`.
 */
import type { AdminAuth } from './auth.js';
import type { AdminOptions } from './handler.js';
import { html, type Html } from './html.js';
import { maskPersonal } from './mask.js';
import { eventsPerMinute, getEvent, listEvents, lookupEntity, recentOutbox, storedTypes } from './queries.js';
import { htmlResponse, jsonError, jsonResponse, redirect } from './responses.js';
import { deadPage, eventDetailPage, eventsPage, nextPageLink, parseFilter } from './views/events.js';
import { page, type PageOptions } from './views/layout.js';
import { loginPage, lookupPage, outboxPage, overviewPage } from './views/pages.js';
import { queueStats } from '../metrics/queue-stats.js';
import { readBackfillStatus } from '../backfill/state.js';

/** A urlencoded form, a JSON object, or null (no body, or JSON that is not an object). */
export type FormBody = URLSearchParams | Record<string, unknown> | null;

export interface RouteContext {
  request: Request;
  url: URL;
  /** The `:name` segments of the path, percent-decoded. */
  params: Readonly<Record<string, string>>;
  /** The body of a POST (read by the guard within the route's limit); null for GET. */
  body: FormBody;
  base: string;
  options: AdminOptions;
  auth: AdminAuth;
  /** The session's CSRF token for the forms of a page; empty for bearer requests. */
  csrf: string;
  now: number;
  render(opts: Omit<PageOptions, 'base'>, body: Html, status?: number): Response;
  /** Counts a wrong login token against the client address; true when the address is past its budget. */
  loginFailed(): boolean;
}

interface RouteBase {
  path: string;
  handle(context: RouteContext): Promise<Response> | Response;
  /** False when the options leave this route out (it then answers 404). @default always */
  available?: (options: AdminOptions) => boolean;
}

export type AdminRoute =
  | (RouteBase & { method: 'GET'; public?: never })
  | (RouteBase & { method: 'POST'; /** Served without credentials (the login form). */ public?: boolean; /** Largest body read; larger gets 413. */ bodyLimit: number });

/** A form with a token in it (login, CSRF). */
const FORM_LIMIT = 8 * 1024;
/** Up to 500 event ids, as a form or as JSON. */
const ID_LIST_LIMIT = 64 * 1024;
const MAX_IDS = 500;

const NOTICES: Record<string, string> = {
  replayed: 'Replayed: the event is pending again and the worker will apply it.',
  'replayed-none': 'Nothing to replay: the event was no longer failed or dead.',
  'outbox-retried': 'Dead side effects are pending again.',
  'logged-out': 'Logged out.',
};

function noticeOf(url: URL): PageOptions['notice'] {
  const key = url.searchParams.get('notice');
  return key && NOTICES[key] ? { text: NOTICES[key]!, error: key.endsWith('-none') } : undefined;
}

export function field(body: FormBody, name: string): string | undefined {
  if (!body) return undefined;
  if (body instanceof URLSearchParams) return body.get(name) ?? undefined;
  const v = body[name];
  return typeof v === 'string' ? v : undefined;
}

function ids(body: FormBody): string[] {
  if (!body) return [];
  const list = body instanceof URLSearchParams ? body.getAll('id') : Array.isArray(body.ids) ? body.ids.filter((v): v is string => typeof v === 'string') : [];
  return [...new Set(list)].slice(0, MAX_IDS);
}

function login({ request, body, base, options, auth, loginFailed }: RouteContext): Response {
  if (!auth.checkToken(field(body, 'token'))) {
    if (loginFailed()) return htmlResponse(page({ title: 'Sign in', base }, loginPage(base, 'Too many failed attempts; wait a minute.')), 429, { 'retry-after': '60' });
    options.logger.warn({ event: 'admin_login_failed' }, 'admin login failed');
    return htmlResponse(page({ title: 'Sign in', base }, loginPage(base, 'That token is not the admin token.')), 401);
  }
  const fresh = auth.newSession();
  options.logger.info({ event: 'admin_login' }, 'admin logged in');
  return redirect(base, { 'set-cookie': auth.cookie(fresh.value, fresh.maxAgeSeconds, request, base) });
}

async function replayEvents(context: RouteContext, selected: string[]): Promise<number> {
  const n = selected.length ? await context.options.replayEvents(selected) : 0;
  context.options.logger.info({ event: 'admin_replay', events: selected.length, replayed: n }, 'admin replayed events');
  return n;
}

async function showEvent({ options, params, url }: RouteContext) {
  const event = await getEvent(await options.db(), options.schema, params.id!);
  const reveal = url.searchParams.get('reveal') === '1';
  if (event && reveal) options.logger.info({ event: 'admin_reveal', svixId: event.id }, 'admin revealed personal fields of an event');
  return { event, reveal, payload: event && (reveal ? event.payload : maskPersonal(event.payload)) };
}

export const adminRoutes: readonly AdminRoute[] = [
  { method: 'POST', path: '/login', public: true, bodyLimit: FORM_LIMIT, handle: login },
  { method: 'GET', path: '/login', handle: ({ base }) => redirect(base) },
  { method: 'POST', path: '/logout', bodyLimit: FORM_LIMIT, handle: ({ request, base, auth }) => redirect(`${base}?notice=logged-out`, { 'set-cookie': auth.cookie('', 0, request, base) }) },

  {
    method: 'GET',
    path: '',
    handle: async ({ options, render, base, csrf, now, url }) => {
      const db = await options.db();
      const [stats, buckets, dead, backfill] = [await queueStats(db, options.schema), await eventsPerMinute(db, options.schema), await listEvents(db, options.schema, { status: 'dead', limit: 5 }), await readBackfillStatus(db, options.schema)];
      return render({ title: 'Overview', active: 'overview', csrf, notice: noticeOf(url) }, overviewPage(base, stats, buckets, dead, now, csrf, backfill));
    },
  },
  {
    method: 'GET',
    path: '/events',
    handle: async ({ options, render, base, csrf, now, url }) => {
      const db = await options.db();
      const { filter, form } = parseFilter(url.searchParams);
      const rows = await listEvents(db, options.schema, filter);
      const types = await storedTypes(db, options.schema);
      return render({ title: 'Events', active: 'events', csrf, notice: noticeOf(url) }, eventsPage(base, form, rows, types, now, nextPageLink(base, form, rows, filter.limit ?? 50)));
    },
  },
  {
    method: 'GET',
    path: '/events/:id',
    handle: async (context) => {
      const { render, base, csrf, now, url } = context;
      const { event, reveal, payload } = await showEvent(context);
      if (!event) return render({ title: 'Not found', active: 'events', csrf }, notFoundPanel(), 404);
      return render({ title: event.type, active: 'events', csrf, notice: noticeOf(url) }, eventDetailPage(base, event, JSON.stringify(payload, null, 2), reveal, csrf, now));
    },
  },
  {
    method: 'POST',
    path: '/events/:id/replay',
    bodyLimit: FORM_LIMIT,
    handle: async (context) => {
      const n = await replayEvents(context, [context.params.id!]);
      return redirect(`${context.base}/events/${encodeURIComponent(context.params.id!)}?notice=${n ? 'replayed' : 'replayed-none'}`);
    },
  },
  {
    method: 'GET',
    path: '/dead',
    handle: async ({ options, render, base, csrf, now, url }) => {
      const rows = await listEvents(await options.db(), options.schema, { status: 'dead', limit: 200 });
      return render({ title: 'Dead letters', active: 'dead', csrf, notice: noticeOf(url) }, deadPage(base, rows, csrf, now));
    },
  },
  {
    method: 'POST',
    path: '/dead/replay',
    bodyLimit: ID_LIST_LIMIT,
    handle: async (context) => {
      const n = await replayEvents(context, ids(context.body));
      return redirect(`${context.base}/dead?notice=${n ? 'replayed' : 'replayed-none'}`);
    },
  },
  {
    method: 'GET',
    path: '/lookup',
    handle: async ({ options, render, base, csrf, now, url }) => {
      const q = (url.searchParams.get('q') ?? '').trim().slice(0, 320);
      const found = q ? await lookupEntity(await options.db(), options.schema, q) : null;
      return render({ title: 'Lookup', active: 'lookup', csrf, notice: noticeOf(url) }, lookupPage(base, q, found, now));
    },
  },
  {
    method: 'GET',
    path: '/outbox',
    handle: async ({ options, render, base, csrf, now, url }) => {
      const db = await options.db();
      const status = ['pending', 'failed', 'dead', 'sent'].find((s) => s === url.searchParams.get('status'));
      const [stats, rows] = [await queueStats(db, options.schema, { full: true }), await recentOutbox(db, options.schema, { status, limit: 100 })];
      return render({ title: 'Outbox', active: 'outbox', csrf, notice: noticeOf(url) }, outboxPage(base, stats, rows, status, csrf, now));
    },
  },
  {
    method: 'POST',
    path: '/outbox/replay',
    bodyLimit: FORM_LIMIT,
    available: (options) => options.replayOutbox !== undefined,
    handle: async ({ options, base }) => {
      const n = await options.replayOutbox!();
      options.logger.info({ event: 'admin_outbox_replay', replayed: n }, 'admin retried dead side effects');
      return redirect(`${base}/outbox?notice=outbox-retried`);
    },
  },

  { method: 'GET', path: '/api/stats', handle: async ({ options }) => jsonResponse(await queueStats(await options.db(), options.schema, { full: true })) },
  { method: 'GET', path: '/api/backfill', handle: async ({ options }) => jsonResponse({ backfill: await readBackfillStatus(await options.db(), options.schema) }) },
  {
    method: 'GET',
    path: '/api/events',
    handle: async ({ options, url }) => jsonResponse({ events: await listEvents(await options.db(), options.schema, parseFilter(url.searchParams).filter) }),
  },
  {
    method: 'GET',
    path: '/api/events/:id',
    handle: async (context) => {
      const { event, payload } = await showEvent(context);
      return event ? jsonResponse({ ...event, payload }) : jsonError('not_found', 404, 'No such event');
    },
  },
  {
    method: 'POST',
    path: '/api/events/:id/replay',
    bodyLimit: FORM_LIMIT,
    handle: async (context) => jsonResponse({ replayed: await replayEvents(context, [context.params.id!]) }),
  },
  {
    method: 'POST',
    path: '/api/dead/replay',
    bodyLimit: ID_LIST_LIMIT,
    handle: async (context) => jsonResponse({ replayed: await replayEvents(context, ids(context.body)) }),
  },
  {
    method: 'GET',
    path: '/api/lookup',
    handle: async ({ options, url }) => {
      const found = await lookupEntity(await options.db(), options.schema, url.searchParams.get('q') ?? '');
      return found ? jsonResponse(found) : jsonError('not_found', 404, 'Nothing found');
    },
  },
  {
    method: 'GET',
    path: '/api/outbox',
    handle: async ({ options, url }) => jsonResponse({ outbox: await recentOutbox(await options.db(), options.schema, { status: url.searchParams.get('status') ?? undefined }) }),
  },
];

export function notFoundPanel(): Html {
  return html`<div class="panel empty">Not found.</div>`;
}
