/**
 * `handleAdmin(Request) → Response`: the admin pages and their JSON API under one base path
 * (default `/admin`). Every route but the login form needs a valid session cookie or the bearer
 * token; every state-changing request made with the cookie needs the session's CSRF token and a
 * same-site origin. Pages are server-rendered HTML with no script; the CSP forbids any.
 *
 * The routes are the table in ./routes.ts; every request passes the guard (./guard.ts) before its
 * route runs. A path no route has answers 404, and a method the path's routes lack 405 with Allow.
 */
import type { Logger } from 'pino';
import type { Queryable } from '../core/db.js';
import { isDatabaseUnavailable } from '../core/db.js';
import { createAdminAuth } from './auth.js';
import { createAdminGuard } from './guard.js';
import { html, type Html } from './html.js';
import { htmlResponse, jsonError } from './responses.js';
import { adminRoutes, notFoundPanel, type AdminRoute } from './routes.js';
import { page, type PageOptions } from './views/layout.js';

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

interface CompiledRoute {
  route: AdminRoute;
  pattern: RegExp;
  names: string[];
}

function compile(route: AdminRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
}

type Match = { route: AdminRoute; params: Record<string, string> } | { allow: string[] } | null;

/** The route for this path and method (HEAD is served by GET), else the methods the path has, else null. */
function matchRoute(routes: readonly CompiledRoute[], path: string, method: string): Match {
  const allow = new Set<string>();
  for (const { route, pattern, names } of routes) {
    const found = pattern.exec(path);
    if (!found) continue;
    const params: Record<string, string> = {};
    try {
      names.forEach((name, i) => (params[name] = decodeURIComponent(found[i + 1]!)));
    } catch {
      // Malformed percent-encoding names nothing that could exist.
      continue;
    }
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
    allow.add(route.method);
    if (route.method === 'GET') allow.add('HEAD');
  }
  return allow.size > 0 ? { allow: [...allow] } : null;
}

export function createAdminHandler(options: AdminOptions): (request: Request, context?: { clientIp?: string }) => Promise<Response> {
  const base = (options.basePath ?? '/admin').replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const auth = createAdminAuth(options.token, now);
  const guard = createAdminGuard({ auth, base, logger: options.logger, now, trustProxy: options.trustProxy ?? false });
  const routes = adminRoutes.filter((route) => route.available?.(options) ?? true).map(compile);

  return async function handleAdmin(request: Request, context?: { clientIp?: string }): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return jsonError('not_found', 404);
    const path = url.pathname.slice(base.length).replace(/\/+$/, '');
    const method = request.method.toUpperCase();
    const api = path === '/api' || path.startsWith('/api/');
    const found = matchRoute(routes, path, method);
    const matched = found && 'route' in found ? found : undefined;

    const grant = await guard.check(request, matched?.route, { api, clientIp: context?.clientIp });
    if (grant instanceof Response) return grant;
    const csrf = grant.session ? auth.csrfToken(grant.session) : '';
    const render = (opts: Omit<PageOptions, 'base'>, body: Html, status = 200) => htmlResponse(page({ ...opts, base }, body), status);

    if (!matched) {
      if (found && 'allow' in found) return jsonError('method_not_allowed', 405, undefined, { allow: found.allow.join(', ') });
      if (api || (method !== 'GET' && method !== 'HEAD')) return jsonError('not_found', 404);
      return render({ title: 'Not found', csrf }, notFoundPanel(), 404);
    }
    try {
      return await matched.route.handle({
        request,
        url,
        params: matched.params,
        body: grant.body,
        base,
        options,
        auth,
        csrf,
        now: now(),
        render,
        loginFailed: () => guard.recordFailure(grant.client),
      });
    } catch (error) {
      const down = isDatabaseUnavailable(error);
      options.logger.error({ err: { message: (error as Error)?.message, code: (error as { code?: string })?.code } }, 'admin request failed');
      if (api) return jsonError(down ? 'database_unavailable' : 'internal_error', down ? 503 : 500);
      return htmlResponse(page({ title: 'Error', base, csrf }, htmlError(down)), down ? 503 : 500);
    }
  };
}

function htmlError(down: boolean): Html {
  return html`<div class="panel empty">${down ? 'The database is unreachable right now. The page will work again once it is back.' : 'Something went wrong; the server log has the details.'}</div>`;
}
