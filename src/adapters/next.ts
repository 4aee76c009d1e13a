/**
 * `clerk-sync/next`: the App Router routes.
 *
 * ```ts
 * // app/api/webhooks/clerk/route.ts
 * import { createNextRoute } from 'clerk-sync/next';
 * export const { POST } = createNextRoute({ secret: process.env.CLERK_WEBHOOK_SIGNING_SECRET, databaseUrl: process.env.DATABASE_URL });
 * export const runtime = 'nodejs';
 *
 * // app/api/cron/clerk-sync/route.ts (inline mode: applies what failed, sends what is due)
 * import { createNextCronRoute } from 'clerk-sync/next';
 * export const { GET } = createNextCronRoute({ databaseUrl: process.env.DATABASE_URL });
 * ```
 * Construction does no I/O, so `next build` can import the routes without env or database.
 */
import type { ClerkSyncOptions } from '../core/config.js';
import { isDatabaseUnavailable } from '../core/db.js';
import { errorBody, type ErrorCode, ERROR_CODES } from '../core/errors.js';
import { safeEqual } from '../core/safe-equal.js';
import { normalizeIp } from '../receive/client-ip.js';
import { createClerkSync, type ClerkSync } from '../service/clerk-sync.js';

export type NextRouteHandler = (request: Request) => Promise<Response>;

/**
 * Hosting platforms whose edge overwrites a client-address header, so the header can be believed
 * without configuration (a client cannot set it through them). Detected by the variable each
 * platform sets in its functions.
 */
export const PLATFORMS = {
  vercel: { env: 'VERCEL', header: 'x-real-ip' },
  netlify: { env: 'NETLIFY', header: 'x-nf-client-connection-ip' },
  fly: { env: 'FLY_APP_NAME', header: 'fly-client-ip' },
} as const;

export type Platform = keyof typeof PLATFORMS;

export interface NextRouteOptions {
  /**
   * Where the caller's address comes from, for rate limits and the allow-list. `'auto'` (the
   * default) uses the platform's header when a platform of PLATFORMS is detected and `trustProxy`
   * is not set; a platform name forces its header; `'none'` uses no header (then, without
   * `trustProxy`, rate limits cannot tell callers apart and do not apply).
   */
  platform?: 'auto' | 'none' | Platform;
}

/** The platform the process runs on, from the variables it sets. */
export function detectPlatform(env: Record<string, string | undefined> = process.env): Platform | undefined {
  for (const [name, platform] of Object.entries(PLATFORMS) as Array<[Platform, (typeof PLATFORMS)[Platform]]>) {
    const value = env[platform.env];
    if (value !== undefined && value !== '' && value !== '0' && value !== 'false') return name;
  }
  return undefined;
}

const toSync = (syncOrOptions: ClerkSync | ClerkSyncOptions): ClerkSync => ('handleWebhook' in syncOrOptions ? syncOrOptions : createClerkSync(syncOrOptions));

export function createNextRoute(syncOrOptions: ClerkSync | ClerkSyncOptions = {}, options: NextRouteOptions = {}): { POST: NextRouteHandler; sync: ClerkSync } {
  const sync = toSync(syncOrOptions);
  const choice = options.platform ?? 'auto';
  // A configured trustProxy is the operator's explicit word: detection never overrides it.
  const platform = choice === 'none' ? undefined : choice === 'auto' ? (sync.config.trustProxy === false ? detectPlatform() : undefined) : choice;
  if (!platform) return { POST: (request) => sync.handleWebhook(request), sync };
  const header = PLATFORMS[platform].header;
  return { POST: (request) => sync.handleWebhook(request, { clientIp: normalizeIp(request.headers.get(header)) }), sync };
}

export interface NextCronRouteOptions {
  /** The bearer secret the scheduler sends. @default process.env.CRON_SECRET, read per request */
  secret?: string;
  /**
   * Time the route may spend claiming work, in ms; what is under way then finishes. Keep it below
   * the function's `maxDuration`. @default 8000 (inside the 10 s of the smallest plans)
   */
  budgetMs?: number;
  /** Send due side effects too (welcome emails, Slack). @default true */
  dispatch?: boolean;
}

const json = (status: number, body: string, headers: Record<string, string> = {}): Response =>
  new Response(body, { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });
const refuse = (code: ErrorCode, headers?: Record<string, string>): Response => json(ERROR_CODES[code].status, errorBody(code), headers);

/**
 * A scheduled route for inline deployments: applies the events whose inline apply failed and
 * sends due side effects, within a time budget. Protected the way Vercel Cron calls it
 * (`Authorization: Bearer $CRON_SECRET`); other schedulers send the same header. Without a secret
 * it refuses every call: a public drain endpoint would let anyone load the database.
 */
export function createNextCronRoute(
  syncOrOptions: ClerkSync | ClerkSyncOptions = {},
  options: NextCronRouteOptions = {},
): { GET: NextRouteHandler; POST: NextRouteHandler; sync: ClerkSync } {
  const sync = toSync(syncOrOptions);
  const budgetMs = options.budgetMs ?? 8000;
  const handler: NextRouteHandler = async (request) => {
    const secret = options.secret ?? process.env.CRON_SECRET;
    if (!secret) return refuse('cron_secret_not_configured');
    const presented = request.headers.get('authorization') ?? '';
    if (!presented.startsWith('Bearer ') || !safeEqual(presented.slice('Bearer '.length), secret)) return refuse('unauthorized', { 'www-authenticate': 'Bearer' });
    try {
      const summary = await sync.drain({ dispatch: options.dispatch ?? true, budgetMs });
      return json(200, JSON.stringify(summary));
    } catch (error) {
      if (isDatabaseUnavailable(error)) return refuse('database_unavailable', { 'retry-after': '60' });
      sync.logger.error({ err: error }, 'cron drain failed');
      return refuse('internal_error');
    }
  };
  return { GET: handler, POST: handler, sync };
}
