/**
 * Inline mode: apply one event inside the request that stored it, right after the inbox commit
 * (serverless hosts have no background process to do it later). One transaction, no claim: the
 * row lock alone keeps a worker or `drain` running at the same time from applying it too, and a
 * function killed mid-apply simply rolls back, leaving the event pending. A failure is recorded
 * (counted, with backoff) and thrown; the receiver logs it and still answers 2xx, because the
 * event is stored and the next worker or `clerk-sync drain` will apply it.
 */
import { applyInTransaction, recordFailure, type ApplyDeps, type EventOutcome } from './apply-batch.js';

export async function applyInline(deps: ApplyDeps, id: string): Promise<EventOutcome> {
  const started = performance.now();
  try {
    const [outcome] = await deps.db.transaction((tx) => applyInTransaction(tx, deps, [id]));
    if (!outcome) return 'skipped';
    deps.onOutcome?.(outcome.status, outcome.event.type, performance.now() - started);
    return outcome.status;
  } catch (error) {
    const failed = await recordFailure(deps, id, error, { countAttempt: true });
    deps.onOutcome?.(failed.status, failed.type, performance.now() - started);
    throw error;
  }
}
