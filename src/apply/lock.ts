/**
 * First statement of every apply transaction: lock the claimed events that still need applying
 * and read them. `skip locked` and the status check make the apply safe whatever happened since
 * the claim: an event another worker is applying right now (its lease ran out and it was claimed
 * twice) is skipped, one already applied is not pending any more. This, not the lease, is what
 * keeps every event applied once in effect.
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
        for update skip locked`,
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
