/**
 * Records a failed apply and schedules the retry, in SQL so every worker derives the same
 * schedule from the row: delay = min(max, base * 2^(attempts-1)), with equal jitter (half fixed,
 * half random) so events that failed together (a database blip) do not come back together. A
 * data error (`permanent`), or the last attempt, makes the event `dead` with its reason.
 *
 * Guarded by status only: if another worker applied the event meanwhile, the failure is moot.
 * Runs in its own statement after the failed transaction rolled back (by primary key: one row).
 * `countAttempt` is for inline mode, which applies without a claim (and so without counting).
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export interface FailEventArgs {
  id: string;
  error: string;
  permanent: boolean;
  countAttempt?: boolean;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface FailedEvent {
  type: string;
  status: 'failed' | 'dead';
  attempts: number;
  next_attempt_at: Date;
}

export async function failEvent(db: Queryable, schema: string, args: FailEventArgs): Promise<FailedEvent | null> {
  const result = await db.query<FailedEvent>(
    `update ${quoteIdentifier(schema)}.webhook_events
        set attempts = attempts + $4,
            status = case when $3 or attempts + $4 >= $5 then 'dead' else 'failed' end,
            last_error = $2,
            claimed_by = null,
            next_attempt_at = case
              when $3 or attempts + $4 >= $5 then now()
              else now() + make_interval(secs => least($7, $6 * power(2, least(attempts + $4 - 1, 40))) * (0.5 + random() * 0.5) / 1000)
            end
      where id = $1 and status in ('pending', 'failed')
  returning type, status, attempts, next_attempt_at`,
    [args.id, args.error.slice(0, 2000), args.permanent, args.countAttempt ? 1 : 0, args.maxAttempts, args.retryBaseMs, args.retryMaxMs],
  );
  return result.rows[0] ?? null;
}
