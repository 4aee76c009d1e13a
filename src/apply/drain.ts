/**
 * `drain`: apply everything that is due now, then return (`clerk-sync drain`, a cron job in
 * inline deployments, tests). It works on a snapshot: events stored after it started are left to
 * the next run, so a steady stream cannot keep it going forever. Events that fail are scheduled
 * for later as usual, not retried in a tight loop; events claimed by a worker that died wait for
 * their lease. What is still waiting is counted in the result.
 */
import { quoteIdentifier } from '../db/identifiers.js';
import { addCounts, applyBatch, emptyCounts, type ApplyDeps, type OutcomeCounts } from './apply-batch.js';
import { claimEvents } from './claim.js';
import { DEFAULT_WORKER_SETTINGS } from './worker.js';

export interface DrainResult extends OutcomeCounts {
  /** Events still pending or failed after the drain (scheduled retries, other workers' claims, newer events). */
  waiting: number;
  /** The drain stopped at its deadline with work left (the next run continues it). */
  deadlineReached: boolean;
}

/**
 * `deadline` (epoch ms): no batch is claimed after it, so a drain inside a request with a time
 * limit (a cron route) ends with the batch under way instead of being killed mid-way.
 */
export async function drainEvents(deps: ApplyDeps, options: { batchSize?: number; leaseMs?: number; deadline?: number } = {}): Promise<DrainResult> {
  const batchSize = options.batchSize ?? 100;
  // The database's clock, not ours (received_at is written by the database), as text to keep its
  // microseconds.
  const [{ now }] = (await deps.db.query<{ now: string }>('select now()::text as now')).rows as [{ now: string }];
  const total = emptyCounts();
  let deadlineReached = false;
  for (;;) {
    if (options.deadline !== undefined && Date.now() >= options.deadline) {
      deadlineReached = true;
      break;
    }
    const claimed = await claimEvents(deps.db, deps.schema, { limit: batchSize, leaseMs: options.leaseMs ?? DEFAULT_WORKER_SETTINGS.leaseMs, maxAttempts: deps.retry.maxAttempts, receivedBefore: now });
    if (claimed.length === 0) break;
    const dead = claimed.filter((c) => c.status === 'dead');
    total.dead += dead.length;
    for (const d of dead) deps.logger.error({ svixId: d.id, attempts: d.attempts }, 'event dead: its last attempt never reported back');
    const live = claimed.filter((c) => c.status !== 'dead').map((c) => c.id);
    if (live.length > 0) {
      const result = await applyBatch(deps, live);
      addCounts(total, result.counts);
      // Unreachable database: stop here rather than spin; the claims bring the events back later.
      if (result.unfinished.length > 0) break;
    }
  }
  const waiting = await deps.db.query<{ n: number }>(`select count(*)::int as n from ${quoteIdentifier(deps.schema)}.webhook_events where status in ('pending', 'failed')`);
  return { ...total, waiting: Number(waiting.rows[0]?.n ?? 0), deadlineReached };
}
