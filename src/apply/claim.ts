/**
 * Claims a batch of due inbox events for one worker. The claim is a short lease committed on its
 * own (attempts + 1, next_attempt_at pushed past the lease), and the apply transaction then
 * takes the rows again (take.ts). Two statements instead of one long transaction because:
 * - attempts are counted even when the worker dies mid-apply (kill -9, OOM), so an event that
 *   crashes its worker every time still runs out of attempts instead of looping forever;
 * - correctness never rests on the lease: the apply transaction re-locks and re-checks status, so
 *   a lease that ran out under a slow worker costs a wasted claim, never a double apply.
 *
 * `for update skip locked`: concurrent workers each take different rows without waiting for one
 * another (two one-loop workers apply 3,000 events in about 0.6 of the time one takes, with no
 * event claimed twice: test/worker/worker.test.ts). The `webhook_events_due_idx` partial index
 * (next_attempt_at, where status is pending or failed) makes `order by next_attempt_at limit n` a
 * range scan of the due rows only, however long the applied history grows. Measured on local
 * Postgres 15 with 200,000 applied events and 100 pending, claiming 100: 1.9 ms with the partial
 * index, 31.9 ms with a plain index on next_attempt_at (applied rows are "due" by time too, so it
 * walks past all of them), 35.2 ms with none. Ordering by next_attempt_at serves retries and new
 * events first come, first served.
 *
 * An event claimed again with no attempts left turns `dead` here (its last claim never reported
 * back) and is returned with that status so the worker can log it.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export interface ClaimedEvent {
  id: string;
  attempts: number;
  status: 'pending' | 'failed' | 'dead';
}

export interface ClaimArgs {
  limit: number;
  leaseMs: number;
  maxAttempts: number;
  /**
   * Only events stored at or before this time (drain works on a snapshot, not a stream). Pass the
   * database's own `now()::text`: a JS Date keeps milliseconds, Postgres microseconds, so a Date
   * read back from the database can fall just before a row stored in the same millisecond.
   */
  receivedBefore?: string | Date | null;
  /** Recorded in `claimed_by`, so the claimer can hand back a claim whose answer it lost (release.ts). */
  claimer?: string;
}

export async function claimEvents(db: Queryable, schema: string, args: ClaimArgs): Promise<ClaimedEvent[]> {
  const s = quoteIdentifier(schema);
  const result = await db.query<ClaimedEvent>(
    `update ${s}.webhook_events e
        set attempts = case when e.attempts < $3 then e.attempts + 1 else e.attempts end,
            status = case when e.attempts < $3 then e.status else 'dead' end,
            last_error = case when e.attempts < $3 then e.last_error
                              else 'gave up after ' || e.attempts || ' attempts (the last one never reported back: the worker stopped while applying it)' end,
            next_attempt_at = now() + make_interval(secs => $2::double precision / 1000),
            claimed_by = $5
       from (select id
               from ${s}.webhook_events
              where status in ('pending', 'failed')
                and next_attempt_at <= now()
                and ($4::timestamptz is null or received_at <= $4)
              order by next_attempt_at
              limit $1
                for update skip locked) due
      where e.id = due.id
  returning e.id, e.attempts, e.status`,
    [args.limit, args.leaseMs, args.maxAttempts, args.receivedBefore instanceof Date ? args.receivedBefore.toISOString() : (args.receivedBefore ?? null), args.claimer ?? null],
  );
  return result.rows;
}
