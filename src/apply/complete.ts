/**
 * Corrects the outcome of events that takeEvents (take.ts) marked `applied` but that turned out
 * stale or ignored, in one statement, inside the transaction that applied them: the projection
 * rows and the inbox status commit or roll back together, which is what "applied exactly once in
 * effect" rests on. By primary key, on rows this transaction already holds, so it never waits.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import type { ApplyStatus } from '../projections/index.js';

export async function completeEvents(tx: Queryable, schema: string, outcomes: ReadonlyArray<{ id: string; status: ApplyStatus }>): Promise<void> {
  const corrections = outcomes.filter((o) => o.status !== 'applied');
  if (corrections.length === 0) return;
  await tx.query(
    `update ${quoteIdentifier(schema)}.webhook_events e
        set status = o.status
       from unnest($1::text[], $2::text[]) as o(id, status)
      where e.id = o.id`,
    [corrections.map((o) => o.id), corrections.map((o) => o.status)],
  );
}
