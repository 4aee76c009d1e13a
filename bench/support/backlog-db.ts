/** Shared by bench/apply.ts and its PGlite process: the setup before the clock starts. */
import type { OutcomeCounts } from '../../src/apply/apply-batch.js';
import { NO_SIDE_EFFECTS } from '../../src/apply/side-effects.js';
import { Worker } from '../../src/apply/worker.js';
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/logger.js';
import { enqueueEvents, type InboxItem } from '../../src/inbox/enqueue.js';
import { applyEvents, type StoredEvent } from '../../src/projections/index.js';

export interface DrainReport {
  ms: number;
  /** CPU of the whole process (worker and, for PGlite, the database), microseconds. */
  cpuUs: number;
  stats: OutcomeCounts & { batches: number };
}

/** The Worker `clerk-sync worker` runs (no side effects, no LISTEN: the backlog is all there), timed by its outcomes. */
export function benchWorker(db: Db, options: { batchSize: number; concurrency: number; onOutcome: () => void }): Worker {
  return new Worker({
    db,
    schema: 'clerk',
    logger: createLogger('silent'),
    context: { schema: 'clerk', deleteMode: 'soft' },
    effects: NO_SIDE_EFFECTS,
    listen: false,
    pollIntervalMs: 20,
    ...options,
  });
}

export async function storeEvents(db: Db, items: readonly InboxItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += 2000) await enqueueEvents(db, 'clerk', items.slice(i, i + 2000));
}

/**
 * Projects the population's events straight into their tables (the apply path without the inbox:
 * the backlog only needs the rows in place), thousands per transaction, which is what keeps the
 * benchmark's setup short.
 */
export async function projectPopulation(db: Db, population: readonly InboxItem[]): Promise<void> {
  for (let i = 0; i < population.length; i += 2000) {
    const events: StoredEvent[] = population.slice(i, i + 2000).map((item) => ({
      id: item.id,
      type: item.type,
      clerkTimestamp: item.clerkTimestamp,
      payload: JSON.parse(item.payload) as StoredEvent['payload'],
      source: 'webhook',
    }));
    await db.transaction((tx) => applyEvents(tx, events, { schema: 'clerk', deleteMode: 'soft' }));
  }
}
