/**
 * `clerk-sync/next`: the App Router route.
 *
 * ```ts
 * // app/api/webhooks/clerk/route.ts
 * import { createNextRoute } from 'clerk-sync/next';
 * export const { POST } = createNextRoute({ secret: process.env.CLERK_WEBHOOK_SIGNING_SECRET, databaseUrl: process.env.DATABASE_URL });
 * export const runtime = 'nodejs';
 * ```
 * Construction does no I/O, so `next build` can import the route without env or database.
 */
import type { ClerkSyncOptions } from '../core/config.js';
import { createClerkSync, type ClerkSync } from '../service/clerk-sync.js';

export type NextRouteHandler = (request: Request) => Promise<Response>;

export function createNextRoute(syncOrOptions: ClerkSync | ClerkSyncOptions = {}): { POST: NextRouteHandler; sync: ClerkSync } {
  const sync = 'handleWebhook' in syncOrOptions ? syncOrOptions : createClerkSync(syncOrOptions);
  return { POST: (request) => sync.handleWebhook(request), sync };
}
