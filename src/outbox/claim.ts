/**
 * Claims due side effects for one dispatcher. A send is an HTTP call that may take seconds, so
 * the claim is a lease rather than a lock held across the call (that would pin a pooled
 * connection per send, and with PGlite's single connection would stall intake): the row's
 * `next_attempt_at` moves past the lease and `complete`/`fail` settle it. A dispatcher that dies
 * mid-send simply lets the lease run out and another one picks the row up.
 *
 * `for update skip locked` lets several dispatchers claim at the same moment without waiting on
 * each other or taking the same row; `outbox_due_idx` (partial on pending/failed, ordered by
 * next_attempt_at) keeps sent rows, the vast majority, out of the scan.
 *
 * `attempts` counts claims, so a row whose sender crashes the process each time still runs out of
 * attempts: a row claimed again with no attempts left turns `dead` here instead of being sent.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export interface ClaimedOutboxRow {
  id: number;
  event_id: string | null;
  kind: string;
  key: string;
  payload: unknown;
  attempts: number;
  status: 'pending' | 'failed' | 'dead';
  /** An earlier claim of this row never recorded its outcome (its dispatcher stopped mid-send): that send may have gone out. */
  in_doubt: boolean;
}

export interface ClaimOutboxArgs {
  kinds: readonly string[];
  limit: number;
  leaseMs: number;
  maxAttempts: number;
  /** Only rows caused by this event (inline mode sends what its request created). */
  eventId?: string | null;
}

export async function claimOutbox(db: Queryable, schema: string, args: ClaimOutboxArgs): Promise<ClaimedOutboxRow[]> {
  const s = quoteIdentifier(schema);
  const result = await db.query<ClaimedOutboxRow & { id: string }>(
    `update ${s}.outbox o
        set attempts = case when o.attempts < $4 then o.attempts + 1 else o.attempts end,
            status = case when o.attempts < $4 then o.status else 'dead' end,
            last_error = case when o.attempts < $4 then o.last_error
                              else 'gave up after ' || o.attempts || ' attempts (the last one never reported back: the dispatcher stopped while sending)' end,
            next_attempt_at = now() + make_interval(secs => $3::double precision / 1000),
            sending_since = case when o.attempts < $4 then now() end
       from (select id, sending_since as previous_send
               from ${s}.outbox
              where status in ('pending', 'failed')
                and next_attempt_at <= now()
                and kind = any($1::text[])
                and ($5::text is null or event_id = $5)
              order by next_attempt_at
              limit $2
                for update skip locked) due
      where o.id = due.id
  returning o.id, o.event_id, o.kind, o.key, o.payload, o.attempts, o.status, due.previous_send is not null as in_doubt`,
    [args.kinds, args.limit, args.leaseMs, args.maxAttempts, args.eventId ?? null],
  );
  return result.rows.map((r) => ({ ...r, id: Number(r.id) }));
}
