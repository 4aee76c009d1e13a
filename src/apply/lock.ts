/**
 * First statement of every apply transaction: lock the claimed events that still need applying
 * and read them. The status check, re-evaluated on the latest row version once a lock is granted,
 * is what keeps every event applied once in effect, whatever happened since the claim: an event
 * another worker applied meanwhile (its claim outlived its lease and it was claimed twice) is not
 * pending any more and is left out.
 *
 * It waits (`for update`) rather than skipping locked rows: a concurrent claim's
 * `for update skip locked` scan can hold our rows for the length of its statement even though it
 * will not take them (Postgres locks a row before re-checking its WHERE against the newest
 * version), and skipping here would strand them until their lease ran out (seen as 35-50 events
 * of 3,000 stuck for a minute with two loops). `order by id` takes the locks in one order, so two
 * workers that both hold a claim on the same events cannot deadlock.
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
  attempts: number;
}

export interface LockedEvent {
  event: StoredEvent;
  attempts: number;
}

export async function lockEvents(tx: Queryable, schema: string, ids: readonly string[]): Promise<LockedEvent[]> {
  const result = await tx.query<Row>(
    `select id, type, clerk_timestamp, payload, source, attempts
       from ${quoteIdentifier(schema)}.webhook_events
      where id = any($1::text[]) and status in ('pending', 'failed')
      order by id
        for update`,
    [ids],
  );
  return result.rows.map((r) => ({
    attempts: r.attempts,
    event: {
      id: r.id,
      type: r.type,
      clerkTimestamp: r.clerk_timestamp === null ? null : Number(r.clerk_timestamp),
      payload: r.payload,
      source: r.source === 'backfill' ? 'backfill' : 'webhook',
    },
  }));
}
