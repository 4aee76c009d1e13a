/**
 * The outbox dispatcher: claims due side effects of the kinds it has senders for, sends them
 * with a bounded number in flight, and records each outcome (sent, failed with a retry time, or
 * dead). It runs as a background loop next to the apply worker, or once per request in inline
 * mode, or until nothing is due (`drain`). Delivery is at least once; with providers that honour
 * the row's idempotency key (Resend) it is once in effect. See docs/side-effects.md.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { isTransientDatabaseError, type Db } from '../core/db.js';
import type { OutboxMessage, SendResult, Sender } from '../core/sender.js';
import { claimOutbox, type ClaimedOutboxRow } from './claim.js';
import { completeOutbox } from './complete.js';
import { OUTBOX_CHANNEL } from './enqueue.js';
import { failOutbox } from './fail.js';
import { abortReason, classifyThrown, type OutboxRegistry } from './registry.js';
import { releaseOutbox } from './release.js';
import { NotifyListener, outageDelay, Wakeup } from './wakeup.js';

export interface DispatcherSettings {
  /** Sends in flight at once. @default 4 */
  concurrency: number;
  /** How often to look for due rows when no notification arrives. @default 1000 */
  pollIntervalMs: number;
  /** Attempts before a row is dead. @default 12 (about 2.5 hours of retries with the defaults, inside Resend's 24 h idempotency window) */
  maxAttempts: number;
  /** First retry delay; doubles per attempt, with jitter. @default 2000 */
  retryBaseMs: number;
  /** Longest retry delay, also the cap on a provider's Retry-After. @default 3600000 */
  retryMaxMs: number;
  /** A send still running after this is aborted and retried. @default 10000 */
  sendTimeoutMs: number;
}

export const DEFAULT_DISPATCHER_SETTINGS: DispatcherSettings = {
  concurrency: 4,
  pollIntervalMs: 1000,
  maxAttempts: 12,
  retryBaseMs: 2000,
  retryMaxMs: 3_600_000,
  sendTimeoutMs: 10_000,
};

export interface DispatcherOptions extends Partial<DispatcherSettings> {
  db: Db;
  schema: string;
  registry: OutboxRegistry;
  logger: Logger;
  /** Wake on NOTIFY as well as polling. @default true */
  listen?: boolean;
  /** How long a claimed row is reserved for its send. @default sendTimeoutMs + 30000 */
  leaseMs?: number;
  /** Observes every outcome (metrics). */
  onOutcome?: (kind: string, outcome: DispatchOutcome) => void;
}

export type DispatchOutcome = 'sent' | 'failed' | 'dead' | 'released';

export interface DispatchCounts {
  sent: number;
  failed: number;
  dead: number;
  released: number;
}

/** The idempotency key of a row: names the effect, so it is the same for every retry and process. */
export function idempotencyKeyFor(kind: string, key: string): string {
  const plain = `clerk-sync:${kind}:${key}`;
  // Resend accepts at most 256 characters.
  return plain.length <= 256 ? plain : `clerk-sync:${kind}:sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export class Dispatcher {
  readonly settings: DispatcherSettings;
  readonly #db: Db;
  readonly #schema: string;
  readonly #registry: OutboxRegistry;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #onOutcome: DispatcherOptions['onOutcome'];
  readonly #wakeup = new Wakeup();
  readonly #listener: NotifyListener | undefined;
  readonly #inFlight = new Set<Promise<DispatchOutcome>>();
  readonly #shutdown = new AbortController();
  /** Kinds held back after a 429 until the provider's Retry-After has passed. */
  readonly #pausedUntil = new Map<string, number>();
  #loop: Promise<void> | undefined;
  #stopping = false;
  #failures = 0;

  constructor(options: DispatcherOptions) {
    this.settings = settingsFrom(options);
    this.#db = options.db;
    this.#schema = options.schema;
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#onOutcome = options.onOutcome;
    // Longer than any send can take (sends are aborted at the timeout), so a live dispatcher never
    // loses a row to another one; short enough that a crashed one delays its rows by well under a minute.
    this.#leaseMs = options.leaseMs ?? this.settings.sendTimeoutMs + 30_000;
    this.#listener = options.listen === false ? undefined : new NotifyListener(this.#db, OUTBOX_CHANNEL, () => this.#wakeup.wake(), this.#logger, this.settings.pollIntervalMs);
  }

  /** Subscribed to the outbox NOTIFY (false while polling only). */
  get listening(): boolean {
    return this.#listener?.listening ?? false;
  }

  get running(): boolean {
    return this.#loop !== undefined && !this.#stopping;
  }

  /** Starts the background loop (idempotent). */
  start(): void {
    if (this.#loop || this.#stopping) return;
    this.#loop = this.#run().catch((error: unknown) => {
      this.#logger.error({ err: { message: (error as Error)?.message } }, 'outbox dispatcher stopped unexpectedly');
    });
  }

  wake(): void {
    this.#wakeup.wake();
  }

  /**
   * Stops claiming, lets sends in flight finish for up to `timeoutMs`, then aborts the rest and
   * hands their rows back (they are retried by the next dispatcher, with the same idempotency key).
   */
  async stop({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.#stopping = true;
    this.#wakeup.wake();
    await this.#loop;
    const timer = setTimeout(() => this.#shutdown.abort(new Error('dispatcher shutting down')), timeoutMs);
    try {
      await Promise.allSettled([...this.#inFlight]);
    } finally {
      clearTimeout(timer);
    }
    await this.#listener?.close();
  }

  /**
   * Sends what is due now (only what `eventId` caused, when given) and resolves when every
   * claimed row has an outcome. Inline mode calls it after applying an event; `drain` repeats it.
   */
  async dispatchOnce({ eventId, limit }: { eventId?: string; limit?: number } = {}): Promise<DispatchCounts> {
    const counts: DispatchCounts = { sent: 0, failed: 0, dead: 0, released: 0 };
    const kinds = this.#activeKinds();
    if (kinds.length === 0) return counts;
    // No more than can be sent at once by default: a claimed row waiting behind slow sends could
    // outlive its lease and be sent by another dispatcher too.
    const rows = await claimOutbox(this.#db, this.#schema, { kinds, limit: limit ?? this.settings.concurrency, leaseMs: this.#leaseMs, maxAttempts: this.settings.maxAttempts, eventId });
    const queue = [...rows];
    const outcomes: DispatchOutcome[] = [];
    // At most `concurrency` sends at once, like the loop.
    await Promise.all(
      Array.from({ length: Math.min(this.settings.concurrency, rows.length) }, async () => {
        for (let row = queue.shift(); row; row = queue.shift()) outcomes.push(await this.#launch(row));
      }),
    );
    for (const outcome of outcomes) counts[outcome]++;
    return counts;
  }

  /** Sends everything due until nothing is left (rows that fail are scheduled, not retried now). */
  /** Sends until nothing is due; with `deadline` (epoch ms), claims nothing after it. */
  async drain(deadline?: number): Promise<DispatchCounts> {
    const total: DispatchCounts = { sent: 0, failed: 0, dead: 0, released: 0 };
    for (;;) {
      if (deadline !== undefined && Date.now() >= deadline) return total;
      const counts = await this.dispatchOnce();
      for (const k of Object.keys(total) as Array<keyof DispatchCounts>) total[k] += counts[k];
      // A handed-back row is due again at once: leave it to the next dispatcher rather than spin.
      if (counts.sent + counts.failed + counts.dead === 0 || counts.released > 0 || this.#stopping) return total;
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      await this.#listener?.ensure();
      // stop() may have come while we were awaiting: claim nothing after it.
      if (this.#stopping) break;
      const free = this.settings.concurrency - this.#inFlight.size;
      const kinds = this.#activeKinds();
      let claimed = 0;
      if (free > 0 && kinds.length > 0) {
        try {
          const rows = await claimOutbox(this.#db, this.#schema, { kinds, limit: free, leaseMs: this.#leaseMs, maxAttempts: this.settings.maxAttempts });
          if (this.#failures > 0) this.#logger.info('outbox dispatcher reconnected to the database');
          this.#failures = 0;
          for (const row of rows) void this.#launch(row);
          claimed = rows.length;
        } catch (error) {
          await this.#databaseTrouble(error);
          continue;
        }
      }
      // A full claim means more may be due: go again as soon as a slot frees (a finished send wakes us).
      if (claimed > 0 && claimed === free) continue;
      await this.#wakeup.wait(this.#nextLookMs());
    }
  }

  async #databaseTrouble(error: unknown): Promise<void> {
    this.#failures++;
    if (this.#failures === 1) {
      this.#logger.error({ err: { message: (error as Error)?.message, code: (error as { code?: string })?.code } }, 'outbox dispatcher cannot reach the database; retrying');
    }
    await this.#listener?.reset();
    await this.#wakeup.wait(outageDelay(this.#failures));
  }

  #nextLookMs(): number {
    let ms = this.settings.pollIntervalMs;
    const now = Date.now();
    for (const until of this.#pausedUntil.values()) ms = Math.min(ms, Math.max(0, until - now));
    return ms;
  }

  #activeKinds(): string[] {
    const now = Date.now();
    return this.#registry.kinds().filter((kind) => {
      const until = this.#pausedUntil.get(kind);
      if (until === undefined) return true;
      if (until > now) return false;
      this.#pausedUntil.delete(kind);
      return true;
    });
  }

  #launch(row: ClaimedOutboxRow): Promise<DispatchOutcome> {
    const promise = this.#handle(row)
      .catch((error: unknown): DispatchOutcome => {
        // Every outcome is recorded inside #handle; an escape is a bug, and the row's lease brings it back.
        this.#logger.error({ outboxId: row.id, kind: row.kind, err: { message: (error as Error)?.message } }, 'side effect handling failed unexpectedly');
        return 'released';
      })
      .finally(() => {
        this.#inFlight.delete(promise);
        this.#wakeup.wake();
      });
    this.#inFlight.add(promise);
    return promise;
  }

  async #handle(row: ClaimedOutboxRow): Promise<DispatchOutcome> {
    const log = { outboxId: row.id, kind: row.kind, eventId: row.event_id, attempt: row.attempts };
    if (row.status === 'dead') {
      this.#logger.error(log, 'side effect dead: its last attempt never reported back');
      return this.#report(row.kind, 'dead');
    }
    const sender = this.#registry.get(row.kind);
    if (!sender) {
      await this.#persist(() => releaseOutbox(this.#db, this.#schema, [row]), log);
      return this.#report(row.kind, 'released');
    }
    const result = row.in_doubt && sender.deduplicates === false ? IN_DOUBT_AFTER_STOP : await this.#send(sender, row);
    if (result.ok) {
      await this.#persist(() => completeOutbox(this.#db, this.#schema, row.id), log);
      this.#logger.info({ ...log, detail: result.detail }, 'side effect sent');
      return this.#report(row.kind, 'sent');
    }
    if (this.#shutdown.signal.aborted) {
      // Cut off by shutdown, not by the provider: not the row's fault, so the attempt is handed
      // back. Unless the provider cannot drop a repeat: then the send may have gone out, and the row
      // keeps its claim, so that the next claim finds it in doubt rather than sending it again.
      if (sender.deduplicates !== false) await this.#persist(() => releaseOutbox(this.#db, this.#schema, [row]), log);
      return this.#report(row.kind, 'released');
    }
    const retryAfterMs = result.retryable ? result.retryAfterMs : undefined;
    if (retryAfterMs !== undefined) this.#pausedUntil.set(row.kind, Date.now() + Math.min(retryAfterMs, this.settings.retryMaxMs));
    const status = await this.#persist(
      () =>
        failOutbox(this.#db, this.#schema, {
          id: row.id,
          attempts: row.attempts,
          error: result.error,
          permanent: !result.retryable,
          retryAfterMs,
          maxAttempts: this.settings.maxAttempts,
          retryBaseMs: this.settings.retryBaseMs,
          retryMaxMs: this.settings.retryMaxMs,
        }),
      log,
    );
    if (status === 'dead') {
      this.#logger.error({ ...log, error: result.error }, result.retryable ? 'side effect dead: out of attempts' : 'side effect dead: permanent failure');
      return this.#report(row.kind, 'dead');
    }
    this.#logger.warn({ ...log, error: result.error, retryAfterMs }, 'side effect failed; will retry');
    return this.#report(row.kind, 'failed');
  }

  async #send(sender: Sender, row: ClaimedOutboxRow): Promise<SendResult> {
    const message: OutboxMessage = {
      id: row.id,
      kind: row.kind,
      key: row.key,
      payload: row.payload,
      eventId: row.event_id,
      attempt: row.attempts,
      idempotencyKey: idempotencyKeyFor(row.kind, row.key),
    };
    const signal = AbortSignal.any([AbortSignal.timeout(this.settings.sendTimeoutMs), this.#shutdown.signal]);
    try {
      const result = await sender.send(message, { signal });
      if (result.ok) return result;
      // Timed out, or the connection broke after the request went out: the provider may have acted on it all the same.
      const timedOut = signal.aborted && !this.#shutdown.signal.aborted;
      const error = timedOut ? `${result.error} (${abortReason(signal)})` : result.error;
      if ((timedOut || (result.retryable && result.inDoubt)) && sender.deduplicates === false) return { ok: false, retryable: false, error: `${IN_DOUBT} (${error})` };
      return timedOut ? { ok: false, retryable: true, error } : result;
    } catch (error) {
      return classifyThrown(error, signal);
    }
  }

  /**
   * Records an outcome, retrying while the database is briefly away: an unrecorded success would
   * be sent again after the lease (harmless with an idempotency key, a duplicate without one).
   */
  async #persist<T>(write: () => Promise<T>, log: object): Promise<T | undefined> {
    const deadline = Date.now() + this.#leaseMs / 2;
    for (let failures = 1; ; failures++) {
      try {
        return await write();
      } catch (error) {
        if (!isTransientDatabaseError(error) || Date.now() > deadline) {
          this.#logger.error({ ...log, err: { message: (error as Error)?.message } }, 'could not record a side effect outcome; the row is retried when its lease ends');
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, outageDelay(failures)));
      }
    }
  }

  #report(kind: string, outcome: DispatchOutcome): DispatchOutcome {
    this.#onOutcome?.(kind, outcome);
    return outcome;
  }
}

/** The start of `last_error` for a row not sent again because its last send's fate is unknown. */
export const IN_DOUBT = 'in doubt: the last send may have gone out, and this provider cannot drop a repeat; check, then replay it if it did not';
const IN_DOUBT_AFTER_STOP: SendResult = { ok: false, retryable: false, error: `${IN_DOUBT} (a dispatcher stopped while sending it)` };

function settingsFrom(options: Partial<DispatcherSettings>): DispatcherSettings {
  const settings = { ...DEFAULT_DISPATCHER_SETTINGS };
  for (const name of Object.keys(settings) as Array<keyof DispatcherSettings>) {
    const value = options[name];
    if (value !== undefined) settings[name] = value;
  }
  return settings;
}
