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
  // Keyset order over the due index: each event is tried once per call, and a failed one moves
  // to a later next_attempt_at, out of this pass, on the worker's retry schedule.
  const passStart = (await options.db.query<{ now: Date }>('select now() as now')).rows[0]!.now;
  const where = `source = 'backfill' and status in ('pending', 'failed') and next_attempt_at <= $3::timestamptz`;
  const total = Number((await options.db.query<{ n: number }>(`select count(*)::int as n from ${s}.webhook_events where ${where.replace('$3', '$1')}`, [passStart])).rows[0]?.n ?? 0);
  let after: { at: Date; id: string } | null = null;
  let done = 0;
  for (;;) {
    const r: { rows: Array<{ id: string; next_attempt_at: Date }> } = await options.db.query<{ id: string; next_attempt_at: Date }>(
      `select id, next_attempt_at from ${s}.webhook_events
        where ${where} and ($1::timestamptz is null or (next_attempt_at, id) > ($1::timestamptz, $2::text))
        order by next_attempt_at, id limit ${batchSize}`,
      [after?.at ?? null, after?.id ?? null, passStart],
    );
    if (r.rows.length === 0) break;
    const last = r.rows.at(-1)!;
    after = { at: last.next_attempt_at, id: last.id };
    const counts = await options.applyBatch(r.rows.map((row) => row.id));
    for (const k of Object.keys(totals) as Array<keyof ApplyCounts>) totals[k] += counts[k];
    done += r.rows.length;
    options.onProgress?.(Math.min(done, total), Math.max(done, total));
  }
  return totals;
}
