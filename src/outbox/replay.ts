/**
 * Puts side effects back in line: dead ones after fixing a sender's configuration, or chosen
 * ids. Attempts start again from zero. Sent rows are left alone unless named by id, because the
 * outbox's promise is "once per (kind, key)": resending a sent effect is a deliberate act. A row
 * whose payload retention dropped (`pruned_at` set) is never requeued: there is nothing to send.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import { OUTBOX_CHANNEL } from './enqueue.js';

export interface OutboxReplaySelector {
  /** Row ids (these are requeued whatever their status, sent included). */
  ids?: readonly number[];
  /** Only this kind. */
  kind?: string;
  /** Which statuses to requeue when not selecting by id. @default ['dead'] */
  statuses?: ReadonlyArray<'dead' | 'failed'>;
}

export async function replayOutbox(db: Queryable, schema: string, selector: OutboxReplaySelector): Promise<number> {
  const byId = selector.ids !== undefined;
  const result = await db.query<{ n: number }>(
    `with replayed as (
       update ${quoteIdentifier(schema)}.outbox
          set status = 'pending', attempts = 0, last_error = null, next_attempt_at = now(), sent_at = null, sending_since = null
        where (case when $1 then id = any($2::bigint[]) else status = any($3::text[]) end)
          and ($4::text is null or kind = $4)
          and pruned_at is null
       returning id
     )
     select count(*)::int as n, pg_notify('${OUTBOX_CHANNEL}', '') from replayed having count(*) > 0`,
    [byId, selector.ids ?? [], selector.statuses ?? ['dead'], selector.kind ?? null],
  );
  return Number(result.rows[0]?.n ?? 0);
}
