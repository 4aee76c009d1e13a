/**
 * Apply at intake: the receiver's group commit (inbox/group-commit.ts) stores a batch of new
 * deliveries already marked `applied` and applies them here, in the same transaction. An event is
 * then written to the inbox once instead of three times (stored, claimed, applied), takes no
 * NOTIFY, no claim and no second commit, and is in the projections when Svix gets its 2xx.
 *
 * What stays with the worker:
 * - events that one of your hooks listens to (stored pending in the same transaction): your code
 *   does not run inside a webhook request, where a slow hook would hold every delivery of its batch;
 * - any batch whose apply fails (a payload that does not fit, a row held past the lock timeout,
 *   a deadlock): the writer rolls the transaction back and stores the batch again as pending, and
 *   the worker applies it with its one-by-one isolation, retries and dead letters.
 *
 * The composition root wires this in only where this process applies events anyway (a worker runs
 * here, or inline mode), so the side-effect rules and senders are the ones a worker here would use
 * (docs/decisions/0004-apply-at-intake.md).
 */
import type { Queryable } from '../core/db.js';
import type { InboxItem } from '../inbox/enqueue.js';
import type { IntakeApply } from '../inbox/group-commit.js';
import type { Hooks, StoredEvent } from '../projections/index.js';
import { applyTaken, describeError, type ApplyDeps } from './apply-batch.js';

/** Longest wait of an intake transaction for a row lock before its batch is left to a worker. */
export const INTAKE_LOCK_TIMEOUT_MS = 1000;

/** `hooks`: the events they listen to are left to the worker. */
export function intakeApply(deps: () => Promise<ApplyDeps>, hooks?: Hooks): IntakeApply {
  return {
    lockTimeoutMs: INTAKE_LOCK_TIMEOUT_MS,
    wants: (item) => !hooks?.listensTo(item.type),
    apply: async (tx, items) => applyAtIntake(await deps(), tx, items),
  };
}

/** Applies deliveries the intake insert just stored as `applied`; resolves to what to report once they are committed. */
export async function applyAtIntake(deps: ApplyDeps, tx: Queryable, items: readonly InboxItem[]): Promise<() => void> {
  const started = performance.now();
  try {
    const outcomes = await applyTaken(tx, deps, items.map(storedEvent));
    const share = (performance.now() - started) / Math.max(1, outcomes.length);
    return () => {
      for (const o of outcomes) deps.onOutcome?.(o.status, o.event.type, share);
    };
  } catch (error) {
    deps.logger.warn({ events: items.length, error: describeError(error) }, 'applying at intake failed; the events are stored for a worker');
    throw error;
  }
}

function storedEvent(item: InboxItem): StoredEvent {
  return {
    id: item.id,
    type: item.type,
    clerkTimestamp: item.clerkTimestamp,
    payload: (item.parsed ?? JSON.parse(item.payload)) as StoredEvent['payload'],
    source: item.source ?? 'webhook',
  };
}
