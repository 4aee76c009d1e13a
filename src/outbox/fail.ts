/**
 * Records a failed send and schedules the next one, in SQL so every dispatcher computes the same
 * schedule from the row itself. Delay = min(max, base * 2^(attempts-1)) with equal jitter (half
 * fixed, half random) so rows that failed together do not retry together; a provider's
 * Retry-After replaces the computed delay (capped by the same maximum, so a bogus header cannot
 * park a row for days). A permanent failure, or the last attempt, makes the row `dead`.
 *
 * Fenced by `attempts`: only the claim that is still current may move the schedule (a late
 * answer from a claim whose lease already ran out must not overwrite a newer one).
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export interface FailOutboxArgs {
  id: number;
  /** The attempts value returned by the claim. */
  attempts: number;
  error: string;
  permanent: boolean;
  retryAfterMs?: number | null;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export async function failOutbox(db: Queryable, schema: string, args: FailOutboxArgs): Promise<'failed' | 'dead' | 'superseded'> {
  const result = await db.query<{ status: 'failed' | 'dead' }>(
    `update ${quoteIdentifier(schema)}.outbox
        set status = case when $4 or attempts >= $5 then 'dead' else 'failed' end,
            sending_since = null,
            last_error = $3,
            next_attempt_at = case
              when $4 or attempts >= $5 then now()
              when $6::double precision is not null then now() + make_interval(secs => least($6::double precision, $8) / 1000)
              else now() + make_interval(secs => least($8, $7 * power(2, least(attempts - 1, 40))) * (0.5 + random() * 0.5) / 1000)
            end
      where id = $1 and attempts = $2 and status in ('pending', 'failed')
  returning status`,
    [args.id, args.attempts, args.error.slice(0, 2000), args.permanent, args.maxAttempts, args.retryAfterMs ?? null, args.retryBaseMs, args.retryMaxMs],
  );
  return result.rows[0]?.status ?? 'superseded';
}
