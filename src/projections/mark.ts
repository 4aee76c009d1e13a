/** Marks the inbox row of an applied event, meant to run in the transaction that applied it. */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import type { ApplyStatus } from './types.js';

export async function markEvent(tx: Queryable, schema: string, id: string, status: ApplyStatus): Promise<void> {
  await tx.query(`update ${quoteIdentifier(schema)}.webhook_events set status = $2, applied_at = now(), last_error = null where id = $1`, [id, status]);
}
