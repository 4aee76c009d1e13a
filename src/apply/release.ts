/**
 * Hands back claimed events a worker will not apply: the attempt the claim counted is taken back
 * and they are due now, so the next worker need not wait for the lease to run out. The status
 * guard leaves alone any that were applied meanwhile.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

const HAND_BACK = 'attempts = greatest(attempts - 1, 0), next_attempt_at = now(), claimed_by = null';

/** By primary key: a worker shutting down, or back from an outage, with events it claimed. */
export async function releaseEvents(db: Queryable, schema: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `update ${quoteIdentifier(schema)}.webhook_events
        set ${HAND_BACK}
      where id = any($1::text[]) and status in ('pending', 'failed')`,
    [ids],
  );
}

/**
 * By claimer: every event still claimed by one worker loop. For a claim that committed while its
 * answer was lost (the connection or the database died in between): the loop never learnt which
 * events it holds, and without this they would wait out their lease. Only the loop itself may
 * call it, between batches, when it holds no claim it knows of. Scans the due events (no index on
 * the claimer: this runs only after an outage, and claims stay as cheap as they were).
 */
export async function releaseClaims(db: Queryable, schema: string, claimer: string): Promise<number> {
  const result = await db.query(
    `update ${quoteIdentifier(schema)}.webhook_events
        set ${HAND_BACK}
      where claimed_by = $1 and status in ('pending', 'failed') and next_attempt_at > now()`,
    [claimer],
  );
  return result.rowCount;
}
