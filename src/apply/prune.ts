/**
 * Retention (decision 0005): inbox events that are done (applied, stale, ignored) and older than
 * the retention window are deleted; side effects that were sent that long ago keep their row,
 * reduced to `(kind, key)` and times, because that row is what makes a redelivered or replayed
 * event find its effect already there. Pending, failed and dead events and unsent side effects
 * are never touched: they are work still to do or to look at.
 *
 * Each batch is its own short transaction: it takes rows with `for update skip locked` (never
 * waiting for a worker or replay that holds one), and first takes a transaction-level advisory
 * lock with `pg_try_advisory_xact_lock`, so two pruners (two worker processes, a worker and the
 * CLI) never work at once; the one that finds the lock taken stops and leaves the work to the
 * other. The inbox batch walks `webhook_events_received_idx` (received_at) from where the previous
 * batch stopped, so no index is added to the table intake writes.
 */
import type { Logger } from 'pino';
import type { Db, Queryable } from '../core/db.js';
import { MAX_RETENTION_DAYS } from '../core/config.js';
import { ClerkSyncError } from '../core/errors.js';
import { quoteIdentifier } from '../db/identifiers.js';

/** Statuses whose events are finished with: the only ones retention removes. */
export const PRUNABLE_EVENT_STATUSES = ['applied', 'stale', 'ignored'] as const;

export const DEFAULT_PRUNE_BATCH_SIZE = 1000;

export interface PruneProgress {
  /** Inbox events deleted so far by this run. */
  events: number;
  /** Sent side effects reduced so far by this run. */
  outbox: number;
}

export interface PruneOptions {
  schema: string;
  /** Older than this many days (a whole number ≥ 1) is pruned. */
  days: number;
  /** Rows per statement and transaction. @default 1000 */
  batchSize?: number;
  /** Count what would be pruned, change nothing. */
  dryRun?: boolean;
  /** Pause between batches, so intake and apply get the database in between. @default 0 */
  pauseMs?: number;
  /**
   * The share of time (0 < share ≤ 1) the pruner may spend in a batch: after a batch of `t` ms it
   * rests `t × (1 − share) / share`. 0.1 keeps it to a tenth of one connection whatever the
   * machine, so a large backlog drains steadily instead of competing with intake. @default 1
   */
  share?: number;
  /**
   * A target duration for one batch: the batch size adapts (between 10 rows and `batchSize`) so
   * that each batch takes about this long. A batch of large TOASTed rows then holds its locks and
   * its WAL flush for milliseconds, not for as long as 1,000 of them take. Unset: fixed batches.
   */
  batchMs?: number;
  /** Checked between batches: true stops the run (the rest waits for the next one). */
  shouldStop?: () => boolean;
  onProgress?: (progress: PruneProgress) => void;
}

export interface PruneResult extends PruneProgress {
  /** Everything received (inbox) or sent (outbox) before this instant was eligible. */
  cutoff: string;
  dryRun: boolean;
  /** Another pruner held the lock; this run stopped and left the work to it. */
  busy: boolean;
  /** Stopped by `shouldStop` with rows possibly left. */
  stopped: boolean;
}

export function validateRetentionDays(days: unknown, name = 'days'): number {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
    throw new ClerkSyncError('invalid_config', `${name} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, got ${JSON.stringify(days)}`);
  }
  return days;
}

const lockKey = (schema: string) => `clerk-sync:prune:${schema}`;

const eventsWhere = `received_at < $1::timestamptz and status in (${PRUNABLE_EVENT_STATUSES.map((status) => `'${status}'`).join(', ')}) and (applied_at is null or applied_at < $1::timestamptz)`;
const outboxWhere = `status = 'sent' and sent_at < $1::timestamptz and pruned_at is null`;

/** What a run over the same cutoff would prune now. */
export async function countPrunable(db: Queryable, schema: string, cutoff: string): Promise<PruneProgress> {
  const s = quoteIdentifier(schema);
  const [events, outbox] = await Promise.all([
    db.query<{ n: string | number }>(`select count(*) as n from ${s}.webhook_events where ${eventsWhere}`, [cutoff]),
    db.query<{ n: string | number }>(`select count(*) as n from ${s}.outbox where ${outboxWhere}`, [cutoff]),
  ]);
  return { events: Number(events.rows[0]?.n ?? 0), outbox: Number(outbox.rows[0]?.n ?? 0) };
}

/** The cutoff by the database's clock (received_at and sent_at are written by it), as text to keep microseconds. */
export async function retentionCutoff(db: Queryable, days: number): Promise<string> {
  const r = await db.query<{ cutoff: string }>(`select (now() - make_interval(days => $1::int))::text as cutoff`, [days]);
  return r.rows[0]!.cutoff;
}

export async function prune(db: Db, options: PruneOptions): Promise<PruneResult> {
  const days = validateRetentionDays(options.days);
  const batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ClerkSyncError('invalid_config', `batchSize must be a whole number, 1 or more, got ${JSON.stringify(batchSize)}`);
  const share = options.share ?? 1;
  if (typeof share !== 'number' || !(share > 0 && share <= 1)) throw new ClerkSyncError('invalid_config', `share must be a number above 0 and at most 1, got ${JSON.stringify(share)}`);
  if (options.batchMs !== undefined && !(typeof options.batchMs === 'number' && options.batchMs > 0)) throw new ClerkSyncError('invalid_config', `batchMs must be a positive number of milliseconds, got ${JSON.stringify(options.batchMs)}`);
  const cutoff = await retentionCutoff(db, days);
  if (options.dryRun) return { ...(await countPrunable(db, options.schema, cutoff)), cutoff, dryRun: true, busy: false, stopped: false };

  const s = quoteIdentifier(options.schema);
  const progress: PruneProgress = { events: 0, outbox: 0 };
  const result = (extra: { busy?: boolean; stopped?: boolean } = {}): PruneResult => ({ ...progress, cutoff, dryRun: false, busy: extra.busy ?? false, stopped: extra.stopped ?? false });
  const size = batchSizer(batchSize, options.batchMs);
  const pause = (tookMs: number) => {
    size.observe(tookMs);
    const ms = Math.max(options.pauseMs ?? 0, (tookMs * (1 - share)) / share);
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  };

  /**
   * Runs `batch` (one short transaction under the pruners' lock, resolving to the rows it handled)
   * until it handles none (undefined), or stops early: busy, or asked to (the run's result).
   */
  const batches = async (batch: (tx: Queryable) => Promise<number>, count: keyof PruneProgress): Promise<PruneResult | undefined> => {
    for (;;) {
      if (options.shouldStop?.()) return result({ stopped: true });
      const batchStarted = Date.now();
      const n = await db.transaction(async (tx) => ((await tryLock(tx, options.schema)) ? batch(tx) : null));
      if (n === null) return result({ busy: true });
      if (n === 0) return undefined;
      progress[count] += n;
      options.onProgress?.({ ...progress });
      await pause(Date.now() - batchStarted);
    }
  };

  // The keyset: each batch starts at the received_at where the last one stopped, so the rows it
  // leaves behind (pending, dead, locked) are read once per run, not once per batch.
  let after = '-infinity';
  const events = async (tx: Queryable): Promise<number> => {
    const r = await tx.query<{ n: string | number; last: string | null }>(
      `with doomed as (
         select id, received_at from ${s}.webhook_events
          where ${eventsWhere} and received_at >= $3::timestamptz
          order by received_at
          limit $2
          for update skip locked
       ), gone as (
         delete from ${s}.webhook_events e using doomed where e.id = doomed.id returning doomed.received_at
       )
       select count(*) as n, max(received_at)::text as last from gone`,
      [cutoff, size.rows, after],
    );
    const last = r.rows[0]?.last ?? null;
    if (last === null) return 0;
    after = last;
    return Number(r.rows[0]?.n ?? 0);
  };
  // The row stays as the record that this (kind, key) was sent: without it a redelivery of the
  // pruned event would send the effect again. What it was sent with (addresses, names) goes.
  const outbox = async (tx: Queryable): Promise<number> => {
    const r = await tx.query<{ n: string | number }>(
      `with doomed as (
         select id from ${s}.outbox where ${outboxWhere} order by sent_at limit $2 for update skip locked
       ), reduced as (
         update ${s}.outbox o set payload = '{}'::jsonb, last_error = null, pruned_at = now() from doomed where o.id = doomed.id returning 1
       )
       select count(*) as n from reduced`,
      [cutoff, size.rows],
    );
    return Number(r.rows[0]?.n ?? 0);
  };

  return (await batches(events, 'events')) ?? (await batches(outbox, 'outbox')) ?? result();
}

/**
 * Rows per batch: fixed without a target; with one, multiplied by target / took after each batch
 * (at most doubling, so one fast batch on a cached page does not jump to the maximum).
 */
function batchSizer(max: number, targetMs: number | undefined) {
  let rows = targetMs === undefined ? max : Math.min(max, 100);
  return {
    get rows() {
      return rows;
    },
    observe(tookMs: number) {
      if (targetMs === undefined) return;
      const factor = Math.min(2, targetMs / Math.max(tookMs, 0.5));
      rows = Math.max(Math.min(max, 10), Math.min(max, Math.round(rows * factor)));
    },
  };
}

async function tryLock(tx: Queryable, schema: string): Promise<boolean> {
  const r = await tx.query<{ locked: boolean }>(`select pg_try_advisory_xact_lock(hashtext($1)) as locked`, [lockKey(schema)]);
  return r.rows[0]?.locked === true;
}

export interface PruneScheduleOptions {
  db: Db;
  schema: string;
  days: number;
  logger: Logger;
  /** Between runs, ±20 % jitter so processes started together do not line up. @default 600000 */
  intervalMs?: number;
  /** Before the first run, a random share of it (a fleet restarting at once spreads out). @default 60000 */
  firstDelayMs?: number;
  batchSize?: number;
}

/**
 * How the worker paces its pruning (decision 0005): batches of about 10 ms, at least 20 ms apart,
 * a tenth of one connection's time in all. Measured by `npm run bench:prune`: intake p99 while
 * a 1,000,000-event backlog is pruned stays within 2× of its value without pruning.
 */
export const WORKER_PRUNE_PACE = { share: 0.1, batchMs: 10, pauseMs: 20 } as const;

/**
 * The worker's retention loop: prunes every ten minutes or so while the worker runs. Only one
 * process works at a time (the advisory lock in `prune`); the others find it taken and wait for
 * their next turn. A failure is logged and the next turn tries again.
 */
export class PruneSchedule {
  readonly #options: PruneScheduleOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopping = false;

  constructor(options: PruneScheduleOptions) {
    this.#options = { ...options, days: validateRetentionDays(options.days, 'retentionDays') };
  }

  start(): void {
    if (this.#timer || this.#stopping) return;
    this.#schedule(Math.random() * (this.#options.firstDelayMs ?? 60_000));
  }

  /** Stops the loop; a batch under way finishes (they are short), later batches are not started. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One run now; resolves to its result, or undefined when it failed (logged). */
  async runOnce(): Promise<PruneResult | undefined> {
    const o = this.#options;
    const started = Date.now();
    try {
      const result = await prune(o.db, { schema: o.schema, days: o.days, batchSize: o.batchSize, ...WORKER_PRUNE_PACE, shouldStop: () => this.#stopping });
      const counts = { events: result.events, outbox: result.outbox, days: o.days, ms: Date.now() - started };
      if (result.events + result.outbox > 0) o.logger.info(counts, 'retention: pruned old inbox events and sent side effects');
      else o.logger.debug({ ...counts, busy: result.busy }, 'retention: nothing to prune');
      return result;
    } catch (error) {
      o.logger.warn({ err: { message: (error as Error)?.message, code: (error as { code?: string })?.code } }, 'retention: prune failed; the next run tries again');
      return undefined;
    }
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const run = this.runOnce();
      this.#running = run;
      void run.finally(() => {
        if (this.#running === run) this.#running = undefined;
        const interval = this.#options.intervalMs ?? 600_000;
        if (!this.#stopping) this.#schedule(interval * (0.8 + Math.random() * 0.4));
      });
    }, delayMs);
    // A pending prune never keeps the process alive by itself.
    this.#timer.unref();
  }
}

/** The configured retention as the days to prune, or a clear error when it keeps everything. */
export function retentionOrThrow(retentionDays: number): number {
  if (retentionDays === 0) throw new ClerkSyncError('invalid_config', 'retention is off (retentionDays is 0, CLERK_SYNC_RETENTION_DAYS=0): give the days to prune explicitly');
  return retentionDays;
}
