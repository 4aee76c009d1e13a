/**
 * Group commit for intake. Each request waits for its delivery to be committed, but concurrent
 * requests share one insert (and so one WAL flush): while a write is in flight, new deliveries
 * queue up and go together in the next one. Throughput is then bounded by commits per second,
 * not requests per second, and a lone request pays no added wait.
 */
import { isDatabaseUnavailable, type Db, type Queryable } from '../core/db.js';
import { enqueueEvents, type InboxItem } from './enqueue.js';

/**
 * Applies newly stored deliveries inside the transaction that stores them (apply at intake;
 * supplied by a later stage, apply/intake.ts, through the composition root). The deliveries it
 * does not want are stored pending, for a worker. `apply` resolves to what to do once the
 * transaction has committed; when it throws, the transaction is rolled back and the batch is
 * stored again without it.
 */
export interface IntakeApply {
  /** False for a delivery only a worker may apply. */
  wants(item: InboxItem): boolean;
  apply(tx: Queryable, items: readonly InboxItem[]): Promise<() => void>;
  /** The intake never waits longer than this for a row another transaction holds; past it, the batch is left to a worker. */
  lockTimeoutMs: number;
}

/**
 * applied: stored and applied in the same commit; stored: stored, pending; duplicate: the id was
 * already stored; expired: its deadline passed while it waited for a write, so it was never sent
 * to the database (its request has been answered 503 by then, and the sender retries).
 */
export type WriteResult = 'applied' | 'stored' | 'duplicate' | 'expired';

export interface GroupCommitOptions {
  /** Writes in flight at once at most: beyond 2, only while deliveries queue (see #pump). @default 6 */
  maxInFlight?: number;
  /** Deliveries per insert at most. @default 500 */
  maxBatch?: number;
}

/** Deliveries waiting at which a write beyond the second starts. */
const WIDEN_AT_QUEUED = 16;

type Waiter = { item: InboxItem; deadline: number; resolve: (result: WriteResult) => void; reject: (error: unknown) => void };

export class InboxWriter {
  readonly #db: Db;
  readonly #schema: string;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  readonly #apply: () => IntakeApply | undefined;
  #queue: Waiter[] = [];
  #inFlight = 0;

  /** `apply` says, per write, whether and how to apply at intake (only where this process applies events). */
  constructor(db: Db, schema: string, options: GroupCommitOptions = {}, apply: () => IntakeApply | undefined = () => undefined) {
    this.#db = db;
    this.#schema = schema;
    this.#maxInFlight = options.maxInFlight ?? 6;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#apply = apply;
  }

  /**
   * Resolves after commit; or with `expired`, without writing, when `deadline` (a
   * `performance.now()` time) passes while the delivery still waits for a write: after a database
   * stall, the deliveries already answered 503 are not written all at once when it comes back.
   */
  write(item: InboxItem, deadline = Infinity): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, deadline, resolve, reject });
      this.#pump();
    });
  }

  /**
   * From the head only: a deadline is arrival plus one timeout, so the queue is in deadline order
   * but for the few milliseconds bodies take to read, and this stays O(1) per delivery.
   */
  #dropExpired(): void {
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0]!.deadline <= now) this.#queue.shift()!.resolve('expired');
  }

  #pump(): void {
    if (this.#inFlight < this.#maxInFlight) this.#dropExpired();
    // Two writes keep one batch filling while the other commits. More pay only when deliveries
    // queue behind both: then the receiver and Postgres would otherwise sit waiting on round
    // trips and WAL flushes while requests wait, and a queue that deep still makes a batch big
    // enough that its statements are shared by many events.
    while (this.#queue.length > 0 && (this.#inFlight < Math.min(2, this.#maxInFlight) || (this.#inFlight < this.#maxInFlight && this.#queue.length >= WIDEN_AT_QUEUED))) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#flush(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #flush(batch: Waiter[]): Promise<void> {
    // A repeated id inside one batch: the first occurrence is written, the rest are duplicates.
    const first = new Map<string, Waiter>();
    const repeats: Waiter[] = [];
    for (const w of batch) {
      if (first.has(w.item.id)) repeats.push(w);
      else first.set(w.item.id, w);
    }
    try {
      const { inserted, applied } = await this.#store([...first.values()].map((w) => w.item));
      for (const w of first.values()) w.resolve(!inserted.has(w.item.id) ? 'duplicate' : applied.has(w.item.id) ? 'applied' : 'stored');
      for (const w of repeats) w.resolve('duplicate');
    } catch (error) {
      if (first.size > 1 && !isBatchWideFailure(error)) {
        // One bad row must not fail its neighbours: retry them one by one.
        await Promise.all([...first.values()].map((w) => this.#flush([w])));
        for (const w of repeats) w.resolve('duplicate');
        return;
      }
      for (const w of batch) w.reject(error);
    }
  }

  async #store(items: InboxItem[]): Promise<{ inserted: Set<string>; applied: ReadonlySet<string> }> {
    const intake = this.#apply();
    const now: InboxItem[] = [];
    const later: InboxItem[] = [];
    if (intake) for (const i of items) (intake.wants(i) ? now : later).push(i);
    if (intake && now.length > 0) {
      try {
        let committed: (() => void) | undefined;
        const result = await this.#db.transaction(
          async (tx) => {
            const applied = await enqueueEvents(tx, this.#schema, now, { applied: true });
            const stored = later.length > 0 ? await enqueueEvents(tx, this.#schema, later) : new Set<string>();
            if (applied.size > 0) committed = await intake.apply(tx, now.filter((i) => applied.has(i.id)));
            return { inserted: new Set([...applied, ...stored]), applied };
          },
          { lockTimeoutMs: intake.lockTimeoutMs },
        );
        committed?.();
        return result;
      } catch (error) {
        // Storing a delivery never depends on applying it: whatever failed (a lock wait, a
        // deadlock, a bad row), store the batch again for a worker, which isolates and retries.
        if (isDatabaseUnavailable(error)) throw error;
      }
    }
    return { inserted: await enqueueEvents(this.#db, this.#schema, items), applied: new Set() };
  }
}

function isBatchWideFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // Data errors (class 22) and integrity errors (23) are row-specific; anything else hits every row.
  return !(typeof code === 'string' && (code.startsWith('22') || code.startsWith('23')));
}
