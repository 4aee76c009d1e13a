/**
 * First statement of every apply transaction: take the claimed events that still need applying,
 * read them, and mark them `applied` in the same statement (complete.ts corrects the few that turn
 * out stale or ignored before the commit). One row version per event instead of a row lock and
 * then an update: the inbox is the hottest table, and this is its busiest path.
 *
 * The status check, re-evaluated on the latest row version once the row lock is granted, is what
 * keeps every event applied once in effect, whatever happened since the claim: an event another
 * worker applied meanwhile (its claim outlived its lease and it was claimed twice) is not pending
 * any more and is left out. The update waits for a row another transaction holds rather than
 * skipping it: a concurrent claim's `for update skip locked` scan can hold our rows for the length
 * of its statement even though it will not take them, and skipping would strand them until their
 * lease ran out. Two workers holding claims on the same events (only after a lease ran out) may
 * deadlock here; Postgres breaks it, and the loser's batch is retried event by event.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import type { StoredEvent } from '../projections/index.js';

interface Row {
  id: string;
  type: string;
  clerk_timestamp: string | number | null;
  payload: StoredEvent['payload'];
  source: string;
}

export async function takeEvents(tx: Queryable, schema: string, ids: readonly string[]): Promise<StoredEvent[]> {
  const result = await tx.query<Row>(
    `update ${quoteIdentifier(schema)}.webhook_events
        set status = 'applied', applied_at = now(), last_error = null
      where id = any($1::text[]) and status in ('pending', 'failed')
  returning id, type, clerk_timestamp, payload, source`,
    [ids],
  );
  return result.rows.map((r) => ({
    id: r.id,
    type: r.type,
    clerkTimestamp: r.clerk_timestamp === null ? null : Number(r.clerk_timestamp),
    payload: r.payload,
    source: r.source === 'backfill' ? 'backfill' : 'webhook',
  }));
}
