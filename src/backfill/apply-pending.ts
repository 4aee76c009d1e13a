/**
 * Applies the backfilled events still waiting in the inbox, so `clerk-sync backfill` leaves the
 * tables filled even when no worker runs. Every pending backfill event is taken, whichever run
 * stored it: a run killed before or during its apply leaves its events to the next one. Only
 * `source = 'backfill'` rows are taken: webhook events stay with the worker, whose side-effect
 * rules they need. Each event is tried once per call; one that fails keeps the worker's retry
 * schedule.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export interface ApplyCounts {
  applied: number;
  stale: number;
  ignored: number;
  failed: number;
  dead: number;
  skipped: number;
}

export interface ApplyPendingOptions {
  db: Queryable;
  schema: string;
  /** The worker's batch apply (one transaction, per-event fallback, failures recorded). */
  applyBatch: (ids: readonly string[]) => Promise<ApplyCounts>;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function applyPendingBackfill(options: ApplyPendingOptions): Promise<ApplyCounts> {
  const s = quoteIdentifier(options.schema);
  const batchSize = options.batchSize ?? 500;
  const totals: ApplyCounts = { applied: 0, stale: 0, ignored: 0, failed: 0, dead: 0, skipped: 0 };
  const where = `source = 'backfill' and status in ('pending', 'failed') and next_attempt_at <= now()`;
  const total = Number((await options.db.query<{ n: number }>(`select count(*)::int as n from ${s}.webhook_events where ${where}`)).rows[0]?.n ?? 0);
  const tried = new Set<string>();
  let done = 0;
  while (done < total) {
    const r = await options.db.query<{ id: string }>(
      `select id from ${s}.webhook_events where ${where} and not (id = any($1::text[])) order by received_at, id limit ${batchSize}`,
      [[...tried].slice(-batchSize * 4)],
    );
    const ids = r.rows.map((row) => row.id).filter((id) => !tried.has(id));
    if (ids.length === 0) break;
    for (const id of ids) tried.add(id);
    const counts = await options.applyBatch(ids);
    for (const k of Object.keys(totals) as Array<keyof ApplyCounts>) totals[k] += counts[k];
    done += ids.length;
    options.onProgress?.(Math.min(done, total), total);
  }
  return totals;
}
