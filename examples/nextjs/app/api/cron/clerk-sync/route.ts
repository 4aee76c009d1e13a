/**
 * Vercel Cron → GET /api/cron/clerk-sync every five minutes (vercel.json). In inline mode an event
 * whose apply failed inside its webhook request waits for a drain; this route is that drain: it
 * applies what is due and sends due side effects, within a time budget, then answers the counts.
 *
 * Vercel sends `Authorization: Bearer $CRON_SECRET` when the project has a CRON_SECRET variable;
 * without one the route refuses every call (500). Keep it out of Clerk's auth.protect() like the
 * webhook route: the scheduler has no Clerk session.
 */
import { createNextCronRoute } from 'clerk-sync/next';
import { clerkSync } from '@/lib/clerk-sync';

// The budget leaves the batch under way time to finish inside maxDuration.
export const { GET } = createNextCronRoute(clerkSync(), { budgetMs: 20_000 });

export const maxDuration = 30;
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';
