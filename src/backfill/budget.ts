/**
 * The request budget of one backfill: a steady rate (requests per second, spaced evenly rather
 * than in bursts, because Clerk's limit is a sliding window per instance shared with the app), an
 * optional cap on the total, and a shared pause when Clerk answers 429 with `Retry-After`, so
 * every concurrent listing waits, not only the one that was refused.
 */

export class BudgetExhaustedError extends Error {
  override readonly name = 'BudgetExhaustedError';
  constructor(readonly limit: number) {
    super(`The request budget of ${limit} Backend API requests is spent; run the same command again to continue`);
  }
}

export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor() {
    super('Interrupted');
  }
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    if (ms <= 0) return resolve();
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface BudgetOptions {
  /** Infinity for no spacing (tests against a local fake). */
  requestsPerSecond: number;
  maxRequests?: number;
  now?: () => number;
  sleep?: Sleep;
}

export class RequestBudget {
  readonly #interval: number;
  readonly #max: number | undefined;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  #nextSlot = 0;
  #pausedUntil = 0;
  #used = 0;

  constructor(options: BudgetOptions) {
    this.#interval = options.requestsPerSecond > 0 && Number.isFinite(options.requestsPerSecond) ? 1000 / options.requestsPerSecond : 0;
    this.#max = options.maxRequests;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? sleep;
  }

  get used(): number {
    return this.#used;
  }

  /** Waits for `cost` request slots; throws BudgetExhaustedError when the cap would be passed. */
  async take(cost: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortedError();
    if (this.#max !== undefined && this.#used + cost > this.#max) throw new BudgetExhaustedError(this.#max);
    this.#used += cost;
    const now = this.#now();
    // Slots are reserved synchronously, so concurrent callers queue up instead of racing.
    const at = Math.max(now, this.#nextSlot, this.#pausedUntil);
    this.#nextSlot = at + this.#interval * cost;
    if (at > now) await this.#sleep(at - now, signal);
    // A 429 seen while this caller slept moves the pause; honour it before sending.
    const after = this.#now();
    if (this.#pausedUntil > after) await this.#sleep(this.#pausedUntil - after, signal);
  }

  /** Everyone waits until `ms` from now (Clerk's Retry-After). */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
  }
}
