/**
 * Hands back claimed events this worker will not apply (it is shutting down): the attempt the
 * claim counted is taken back and they are due now, so the next worker need not wait for the
 * lease to run out. By primary key; the status guard leaves alone any that were applied meanwhile.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export async function releaseEvents(db: Queryable, schema: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `update ${quoteIdentifier(schema)}.webhook_events
        set attempts = greatest(attempts - 1, 0), next_attempt_at = now()
      where id = any($1::text[]) and status in ('pending', 'failed')`,
    [ids],
  );
}
