/**
 * Hands claimed but unsent rows back at shutdown: the claim's attempt is taken back and the row
 * is due now, so another dispatcher sends it without waiting for the lease to run out. Fenced by
 * `attempts` like fail.ts.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export async function releaseOutbox(db: Queryable, schema: string, rows: ReadonlyArray<{ id: number; attempts: number }>): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `update ${quoteIdentifier(schema)}.outbox o
        set attempts = o.attempts - 1, next_attempt_at = now(), sending_since = null
       from unnest($1::bigint[], $2::int[]) as r(id, attempts)
      where o.id = r.id and o.attempts = r.attempts and o.status in ('pending', 'failed')`,
    [rows.map((r) => r.id), rows.map((r) => r.attempts)],
  );
}
