/**
 * The two ways a background loop learns there is work: a NOTIFY on its channel (instant), or
 * its poll timer (the fallback when notifications are lost: a transaction pooler such as
 * PgBouncer or Neon's pooled endpoint drops LISTEN, a restarted database drops it too). Used by
 * the apply worker and the outbox dispatcher alike.
 */
import type { Logger } from 'pino';
import type { Db } from '../core/db.js';

/** A resettable "there may be work" flag that a loop can sleep on. */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    this.#pending = true;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
  }

  /** Resolves at the next wake (or at once if one came since the last wait), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.#resolve === done) self.#resolve = undefined;
        self.#pending = false;
        resolve();
      }
      this.#resolve = done;
    });
  }
}

/**
 * Keeps one LISTEN subscription that wakes a loop. Failing to subscribe is not an error, only
 * slower: the loop still polls. After a database outage the subscription is presumed dead (the
 * `pg` listen client swallows its connection errors) and is renewed on the next `ensure`.
 */
export class NotifyListener {
  readonly #db: Db;
  readonly #channel: string;
  readonly #onNotify: () => void;
  readonly #logger: Logger;
  readonly #pollIntervalMs: number;
  #unsubscribe: (() => Promise<void>) | undefined;
  #retryAt = 0;
  #warned = false;
  #closed = false;
  #subscribing: Promise<void> | undefined;

  constructor(db: Db, channel: string, onNotify: () => void, logger: Logger, pollIntervalMs: number) {
    this.#db = db;
    this.#channel = channel;
    this.#onNotify = onNotify;
    this.#logger = logger;
    this.#pollIntervalMs = pollIntervalMs;
  }

  get listening(): boolean {
    return this.#unsubscribe !== undefined;
  }

  /** Subscribes if not subscribed; concurrent callers (several loops) share one attempt. */
  ensure(): Promise<void> {
    if (this.#closed || this.#unsubscribe || Date.now() < this.#retryAt) return Promise.resolve();
    this.#subscribing ??= this.#subscribe().finally(() => {
      this.#subscribing = undefined;
    });
    return this.#subscribing;
  }

  async #subscribe(): Promise<void> {
    try {
      const unsubscribe = await this.#db.listen(this.#channel, () => this.#onNotify());
      if (this.#closed) {
        // Closed while we were connecting: do not leave a connection behind.
        await unsubscribe().catch(() => {});
        return;
      }
      this.#unsubscribe = unsubscribe;
      if (this.#warned) this.#logger.info({ channel: this.#channel }, 'LISTEN restored; woken by notifications again');
      this.#warned = false;
      // Anything committed while no one listened is found by this first look.
      this.#onNotify();
    } catch (error) {
      this.#retryAt = Date.now() + 30_000;
      if (!this.#warned) {
        this.#warned = true;
        this.#logger.warn(
          { channel: this.#channel, pollIntervalMs: this.#pollIntervalMs, err: { message: (error as Error)?.message } },
          'LISTEN unavailable (a transaction pooler, or the database is down); polling instead',
        );
      }
    }
  }

  /** The database went away: the subscription is likely gone with it. */
  async reset(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    this.#retryAt = 0;
    await unsubscribe?.().catch(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#subscribing;
    await this.reset();
  }
}

/** Backoff for a loop whose database calls fail: 250 ms doubling to 10 s. */
export function outageDelay(consecutiveFailures: number): number {
  return Math.min(10_000, 250 * 2 ** Math.min(consecutiveFailures, 6));
}
