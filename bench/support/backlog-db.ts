/** Shared by bench/apply.ts and its PGlite process: storing the population and applying it before the clock starts. */
import { applyBatch, type OutcomeCounts } from '../../src/apply/apply-batch.js';
import { claimEvents } from '../../src/apply/claim.js';
import { NO_SIDE_EFFECTS } from '../../src/apply/side-effects.js';
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/logger.js';
import { enqueueEvents, type InboxItem } from '../../src/inbox/enqueue.js';

export interface DrainReport {
  ms: number;
  /** CPU of the whole process (worker and, for PGlite, the database), microseconds. */
  cpuUs: number;
  stats: OutcomeCounts & { batches: number };
}

export async function storeEvents(db: Db, items: readonly InboxItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += 1000) await enqueueEvents(db, 'clerk', items.slice(i, i + 1000));
}

/** Stores the population's events and applies them, so the backlog finds its rows in place. */
export async function drainPopulation(db: Db, population: readonly InboxItem[]): Promise<void> {
  await storeEvents(db, population);
  const deps = {
    db,
    schema: 'clerk',
    logger: createLogger('silent'),
    context: { schema: 'clerk', deleteMode: 'soft' as const },
    effects: NO_SIDE_EFFECTS,
    retry: { maxAttempts: 10, retryBaseMs: 1000, retryMaxMs: 60_000 },
  };
  for (;;) {
    const claimed = await claimEvents(db, 'clerk', { limit: 1000, leaseMs: 60_000, maxAttempts: 10 });
    if (claimed.length === 0) return;
    const { counts } = await applyBatch(deps, claimed.map((c) => c.id));
    if (counts.failed + counts.dead > 0) throw new Error('the population did not apply');
  }
}
