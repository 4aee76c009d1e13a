/**
 * Puts stored events back in line to be applied again: by svix id, by type, by time received,
 * by status (all dead events), or a combination (all conditions must hold). Replay is
 * idempotent: the projections converge on the same rows whatever is applied twice, and side
 * effects are unique per (kind, key), so a replayed sign-up sends no second welcome email.
 * Attempts start again from zero; the notify wakes workers at once.
 *
 * The time range is on `received_at` (when clerk-sync stored the delivery), which
 * `webhook_events_received_idx` and `webhook_events_type_received_idx` serve.
 */
import type { Queryable } from '../core/db.js';
import { ClerkSyncError } from '../core/errors.js';
import { quoteIdentifier } from '../db/identifiers.js';
import { INBOX_CHANNEL } from '../inbox/enqueue.js';

export type ReplayableStatus = 'applied' | 'stale' | 'ignored' | 'failed' | 'dead' | 'pending';

export interface ReplaySelector {
  /** Svix ids (msg_…). */
  ids?: readonly string[];
  /** An event type, e.g. `user.updated`. */
  type?: string;
  /** Received at or after. */
  since?: Date;
  /** Received before. */
  until?: Date;
  /** Only events in these statuses, e.g. `['dead']`. */
  statuses?: readonly ReplayableStatus[];
  /** Set to replay every stored event (no other condition needed). */
  all?: boolean;
}

export async function replayEvents(db: Queryable, schema: string, selector: ReplaySelector): Promise<number> {
  const any = selector.ids !== undefined || selector.type !== undefined || selector.since !== undefined || selector.until !== undefined || selector.statuses !== undefined;
  if (!any && !selector.all) throw new ClerkSyncError('invalid_config', 'replay needs ids, a type, a time range, statuses, or all: true');
  const result = await db.query<{ n: number }>(
    `with replayed as (
       update ${quoteIdentifier(schema)}.webhook_events
          set status = 'pending', attempts = 0, last_error = null, next_attempt_at = now(), applied_at = null, claimed_by = null
        where ($1::text[] is null or id = any($1::text[]))
          and ($2::text is null or type = $2)
          and ($3::timestamptz is null or received_at >= $3)
          and ($4::timestamptz is null or received_at < $4)
          and ($5::text[] is null or status = any($5::text[]))
       returning id
     )
     select count(*)::int as n, pg_notify('${INBOX_CHANNEL}', '') from replayed having count(*) > 0`,
    [selector.ids ?? null, selector.type ?? null, selector.since?.toISOString() ?? null, selector.until?.toISOString() ?? null, selector.statuses ?? null],
  );
  return Number(result.rows[0]?.n ?? 0);
}
