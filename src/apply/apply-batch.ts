/**
 * Applies claimed events: the whole batch in one transaction (projection rows, side-effect rows
 * and inbox statuses commit together, one commit per batch), and when that transaction fails,
 * each event again in a transaction of its own, so one bad event costs the others nothing and
 * gets its own failure recorded. A batch that failed because the database is unreachable is not
 * split: every single-event transaction would fail the same way; the claims' leases bring the
 * events back once the database does.
 */
import type { Logger } from 'pino';
import { isDatabaseUnavailable, type Db, type Queryable } from '../core/db.js';
import { applyEvents, PayloadError, type ApplyContext, type ApplyStatus, type StoredEvent } from '../projections/index.js';
import { completeEvents } from './complete.js';
import { failEvent } from './fail.js';
import { takeEvents } from './take.js';
import { enqueueBatchSideEffects, type SideEffectRules } from './side-effects.js';

export interface RetrySettings {
  /** Attempts before an event is dead. @default 10 */
  maxAttempts: number;
  /** First retry delay; doubles per attempt, with jitter. @default 5000 */
  retryBaseMs: number;
  /** Longest retry delay. @default 3600000 */
  retryMaxMs: number;
}

export interface ApplyDeps {
  db: Db;
  schema: string;
  logger: Logger;
  context: ApplyContext;
  effects: SideEffectRules;
  retry: RetrySettings;
  /** Observes each event's outcome (metrics); elapsedMs is its share of its transaction. */
  onOutcome?: (outcome: EventOutcome, type: string, elapsedMs: number) => void;
}

/** skipped: another worker had it, or it was no longer pending. */
export type EventOutcome = ApplyStatus | 'failed' | 'dead' | 'skipped';

export type OutcomeCounts = Record<EventOutcome, number>;

export const emptyCounts = (): OutcomeCounts => ({ applied: 0, stale: 0, ignored: 0, failed: 0, dead: 0, skipped: 0 });

export function addCounts<T extends OutcomeCounts>(into: T, from: OutcomeCounts): T {
  for (const k of Object.keys(from) as EventOutcome[]) into[k] += from[k];
  return into;
}

export interface BatchResult {
  counts: OutcomeCounts;
  /** Claimed ids left alone because the worker is stopping (or the database went away). */
  unfinished: string[];
}

/** Applies the given events in `tx`; returns the outcome of each event it could lock. */
export async function applyInTransaction(tx: Queryable, deps: ApplyDeps, ids: readonly string[]): Promise<Array<{ event: StoredEvent; status: ApplyStatus }>> {
  return applyTaken(tx, deps, await takeEvents(tx, deps.schema, ids));
}

/** Applies events whose inbox rows this transaction already marked `applied` (take.ts, or stored so at intake). */
export async function applyTaken(tx: Queryable, deps: ApplyDeps, events: readonly StoredEvent[]): Promise<Array<{ event: StoredEvent; status: ApplyStatus }>> {
  const statuses = await applyEvents(tx, events, deps.context);
  const outcomes = events.map((event, i) => ({ event, status: statuses[i]! }));
  // After the whole batch, so a delete anywhere in it suppresses a welcome for the same user.
  await enqueueBatchSideEffects(tx, deps.schema, outcomes, deps.effects);
  await completeEvents(tx, deps.schema, outcomes.map((o) => ({ id: o.event.id, status: o.status })));
  return outcomes;
}

export async function applyBatch(deps: ApplyDeps, ids: readonly string[], shouldStop: () => boolean = () => false): Promise<BatchResult> {
  const counts = emptyCounts();
  const record = (outcome: EventOutcome, type: string, elapsedMs: number) => {
    counts[outcome]++;
    deps.onOutcome?.(outcome, type, elapsedMs);
  };
  let batchError: unknown;
  let started = performance.now();
  try {
    const outcomes = await deps.db.transaction((tx) => applyInTransaction(tx, deps, ids));
    const share = (performance.now() - started) / Math.max(1, outcomes.length);
    for (const o of outcomes) record(o.status, o.event.type, share);
    counts.skipped += ids.length - outcomes.length;
    return { counts, unfinished: [] };
  } catch (error) {
    batchError = error;
  }
  if (await databaseIsDown(deps, batchError)) {
    deps.logger.warn({ events: ids.length, err: errorFields(batchError) }, 'database unreachable while applying; the events come back when their claim expires');
    return { counts, unfinished: [...ids] };
  }
  if (ids.length > 1) deps.logger.debug({ events: ids.length, err: errorFields(batchError) }, 'batch failed; applying its events one by one');
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (shouldStop()) return { counts, unfinished: ids.slice(i) };
    started = performance.now();
    try {
      // A batch of one already ran: its error is the event's own.
      if (ids.length === 1) throw batchError;
      const outcomes = await deps.db.transaction((tx) => applyInTransaction(tx, deps, [id]));
      if (outcomes[0]) record(outcomes[0].status, outcomes[0].event.type, performance.now() - started);
      else counts.skipped++;
    } catch (error) {
      if (await databaseIsDown(deps, error)) {
        deps.logger.warn({ err: errorFields(error) }, 'database unreachable while applying; the events come back when their claim expires');
        return { counts, unfinished: ids.slice(i) };
      }
      const outcome = await recordFailure(deps, id, error);
      record(outcome.status, outcome.type, performance.now() - started);
    }
  }
  return { counts, unfinished: [] };
}

/**
 * Did this error come from the database going away? The error alone cannot say: a hook calling an
 * HTTP API fails with the same ECONNRESET or ETIMEDOUT as a lost database connection. So an error
 * that looks like one is checked with a round trip, and only a failed round trip counts.
 */
async function databaseIsDown(deps: ApplyDeps, error: unknown): Promise<boolean> {
  if (!isDatabaseUnavailable(error)) return false;
  try {
    await deps.db.query('select 1');
    return false;
  } catch (probe) {
    return isDatabaseUnavailable(probe);
  }
}

/**
 * Records why an event failed: a payload that does not fit (PayloadError), or any error that
 * says `retryable: false`, is dead at once; anything else (a hook that threw, a deadlock, a
 * serialization failure) is retried with backoff until the attempts run out.
 */
export async function recordFailure(deps: ApplyDeps, id: string, error: unknown, options: { countAttempt?: boolean } = {}): Promise<{ status: 'failed' | 'dead' | 'skipped'; type: string }> {
  // A data error fails the same way on every retry, so it is dead at once, with its reason:
  // SQLSTATE class 22 (a date past what Postgres holds, a number overflowing its column), or a
  // RangeError from the data (a time no Date holds).
  const sqlstate = (error as { code?: unknown } | null)?.code;
  const permanent =
    error instanceof PayloadError ||
    error instanceof RangeError ||
    (error as { retryable?: unknown } | null)?.retryable === false ||
    (typeof sqlstate === 'string' && /^22[0-9A-Z]{3}$/.test(sqlstate));
  const reason = describeError(error);
  try {
    const failed = await failEvent(deps.db, deps.schema, { id, error: reason, permanent, countAttempt: options.countAttempt, ...deps.retry });
    if (!failed) return { status: 'skipped', type: 'unknown' };
    const type = failed.type;
    const log = { svixId: id, eventType: type, attempts: failed.attempts, error: reason };
    if (failed.status === 'dead') deps.logger.error(log, permanent ? 'event dead: it cannot be applied (data error)' : 'event dead: out of attempts');
    else deps.logger.warn({ ...log, retryAt: failed.next_attempt_at }, 'event failed; will retry');
    return { status: failed.status, type };
  } catch (recordError) {
    deps.logger.error({ svixId: id, error: reason, err: errorFields(recordError) }, 'could not record a failed apply; the event comes back when its claim expires');
    return { status: 'skipped', type: 'unknown' };
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
  }
  return String(error);
}

function errorFields(error: unknown): { message?: string; code?: string } {
  return { message: (error as Error)?.message, code: (error as { code?: string })?.code };
}
