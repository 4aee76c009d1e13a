/**
 * Group commit for intake. Each request waits for its delivery to be committed, but concurrent
 * requests share one insert (and so one WAL flush): while a write is in flight, new deliveries
 * queue up and go together in the next one. Throughput is then bounded by commits per second,
 * not requests per second, and a lone request pays no added wait.
 */
import type { Queryable } from '../core/db.js';
import { enqueueEvents, type InboxItem } from './enqueue.js';

export interface GroupCommitOptions {
  /** Writes in flight at once. @default 4 */
  maxInFlight?: number;
  /** Deliveries per insert at most. @default 500 */
  maxBatch?: number;
}

type Waiter = { item: InboxItem; resolve: (inserted: boolean) => void; reject: (error: unknown) => void };

export class InboxWriter {
  readonly #db: Queryable;
  readonly #schema: string;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  #queue: Waiter[] = [];
  #inFlight = 0;

  constructor(db: Queryable, schema: string, options: GroupCommitOptions = {}) {
    this.#db = db;
    this.#schema = schema;
    this.#maxInFlight = options.maxInFlight ?? 4;
    this.#maxBatch = options.maxBatch ?? 500;
  }

  /** Resolves after commit: true when stored now, false when the id was already stored. */
  write(item: InboxItem): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
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
      const inserted = await enqueueEvents(this.#db, this.#schema, [...first.values()].map((w) => w.item));
      for (const w of first.values()) w.resolve(inserted.has(w.item.id));
      for (const w of repeats) w.resolve(false);
    } catch (error) {
      if (first.size > 1 && !isBatchWideFailure(error)) {
        // One bad row must not fail its neighbours: retry them one by one.
        await Promise.all([...first.values()].map((w) => this.#flush([w])));
        for (const w of repeats) w.resolve(false);
        return;
      }
      for (const w of batch) w.reject(error);
    }
  }
}

function isBatchWideFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // Data errors (class 22) and integrity errors (23) are row-specific; anything else hits every row.
  return !(typeof code === 'string' && (code.startsWith('22') || code.startsWith('23')));
}
