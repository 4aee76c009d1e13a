/**
 * Clerk → Svix → POST /api/webhooks/clerk. clerk-sync verifies the signature over the raw body,
 * stores the event in clerk.webhook_events and answers 2xx only after that commit; in inline
 * mode it then applies the event to the clerk.* tables before answering.
 *
 * This route must be public. Webhooks carry no Clerk session, so with clerkMiddleware() (in
 * `proxy.ts` since Next.js 16, `middleware.ts` before) exclude it from auth.protect():
 *
 *   const isPublic = createRouteMatcher(['/api/webhooks(.*)', '/sign-in(.*)', '/sign-up(.*)']);
 *   export default clerkMiddleware(async (auth, req) => { if (!isPublic(req)) await auth.protect(); });
 *
 * Otherwise Clerk's middleware answers the delivery with a redirect or 404 and Svix keeps retrying.
 */
import { createNextRoute } from 'clerk-sync/next';
import { clerkSync } from '@/lib/clerk-sync';

export const { POST } = createNextRoute(clerkSync());

// pg needs Node's net module: the Edge runtime cannot run this route.
export const runtime = 'nodejs';
