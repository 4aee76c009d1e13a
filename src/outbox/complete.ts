/**
 * Marks a side effect sent. Not fenced by `attempts`: once a provider accepted the effect it is
 * sent, whichever claim did it; the status guard keeps the first `sent_at` if two dispatchers
 * both sent after a lease ran out (see claim.ts).
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export async function completeOutbox(db: Queryable, schema: string, id: number): Promise<void> {
  await db.query(
    `update ${quoteIdentifier(schema)}.outbox
        set status = 'sent', sent_at = now(), last_error = null, sending_since = null
      where id = $1 and status in ('pending', 'failed')`,
    [id],
  );
}
