/**
 * The apply worker: claims due inbox events in batches, applies them (apply-batch.ts), and
 * sleeps until a NOTIFY from intake or replay, or its poll timer, says there may be more. Any
 * number of workers, in one process (`concurrency`) or many, share one database: claims use
 * `skip locked`, so they never wait on or take each other's events. It never crashes on a
 * database outage; it backs off, and when the database is back it renews its LISTEN and goes on.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../core/db.js';
import { INBOX_CHANNEL } from '../inbox/enqueue.js';
import { NotifyListener, outageDelay, Wakeup } from '../outbox/wakeup.js';
import { addCounts, applyBatch, emptyCounts, type ApplyDeps, type EventOutcome, type OutcomeCounts, type RetrySettings } from './apply-batch.js';
import { claimEvents } from './claim.js';
import { releaseClaims, releaseEvents } from './release.js';

export interface WorkerSettings extends RetrySettings {
  /** Events per claim and per apply transaction. @default 500 */
  batchSize: number;
  /** Claim-and-apply loops in this process (PGlite runs one). @default 2 */
  concurrency: number;
  /** How often to look for due events when no notification arrives. @default 1000 */
  pollIntervalMs: number;
  /**
   * How long a claimed event is reserved for its worker before another may take it. Only the
   * moments between the claim and the apply transaction's first statement rest on it (from then
   * on the row locks keep other workers off, however long the batch takes), so it can be short;
   * it is how long the events of a worker killed mid-batch wait. @default 15000
   */
  leaseMs: number;
}

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = {
  batchSize: 500,
  concurrency: 2,
  pollIntervalMs: 1000,
  leaseMs: 15_000,
  maxAttempts: 10,
  retryBaseMs: 5000,
  retryMaxMs: 3_600_000,
};

export interface WorkerOptions extends Partial<WorkerSettings>, Omit<ApplyDeps, 'retry'> {
  /** Wake on NOTIFY as well as polling. @default true */
  listen?: boolean;
}

export class Worker {
  readonly settings: WorkerSettings;
  readonly stats: OutcomeCounts & { batches: number } = { ...emptyCounts(), batches: 0 };
  readonly #deps: ApplyDeps;
  readonly #logger: Logger;
  readonly #wakeups: Wakeup[];
  readonly #listener: NotifyListener | undefined;
  #lanes: Promise<void>[] = [];
  #stopping = false;
  #failures = 0;
  /** Claimed events a database outage kept us from applying: handed back once it is reachable. */
  #stranded: string[] = [];

  constructor(options: WorkerOptions) {
    const settings = { ...DEFAULT_WORKER_SETTINGS };
    for (const name of Object.keys(settings) as Array<keyof WorkerSettings>) {
      const value = options[name];
      if (value !== undefined) settings[name] = value;
    }
    this.settings = settings;
    this.#logger = options.logger;
    const onOutcome = options.onOutcome;
    this.#deps = {
      db: options.db,
      schema: options.schema,
      logger: options.logger,
      context: options.context,
      effects: options.effects,
      retry: { maxAttempts: settings.maxAttempts, retryBaseMs: settings.retryBaseMs, retryMaxMs: settings.retryMaxMs },
      onOutcome: (outcome: EventOutcome, type: string, elapsedMs: number) => onOutcome?.(outcome, type, elapsedMs),
    };
    this.#wakeups = Array.from({ length: settings.concurrency }, () => new Wakeup());
    this.#listener =
      options.listen === false ? undefined : new NotifyListener(options.db, INBOX_CHANNEL, () => this.wake(), options.logger, settings.pollIntervalMs);
  }

  /** Subscribed to intake's NOTIFY (false while polling only). */
  get listening(): boolean {
    return this.#listener?.listening ?? false;
  }

  get running(): boolean {
    return this.#lanes.length > 0 && !this.#stopping;
  }

  start(): void {
    if (this.#lanes.length > 0 || this.#stopping) return;
    this.#lanes = this.#wakeups.map((wakeup, lane) =>
      this.#run(wakeup).catch((error: unknown) => {
        this.#logger.error({ lane, err: { message: (error as Error)?.message } }, 'apply worker loop stopped unexpectedly');
      }),
    );
  }

  wake(): void {
    for (const w of this.#wakeups) w.wake();
  }

  /**
   * Stops claiming. A batch transaction under way is finished; events claimed but not yet
   * applied are handed back. Resolves when the loops are done or after `timeoutMs` (whatever is
   * still running then is cut off when the pool closes, rolled back, and reclaimed after its lease).
   */
  async stop({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.#stopping = true;
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const finished = await Promise.race([Promise.all(this.#lanes).then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (finished === 'timeout') this.#logger.warn({ timeoutMs }, 'apply worker did not stop in time; its claimed events return after their lease');
    if (finished === 'done' && this.#stranded.length > 0) await this.#handBackStranded();
    await this.#listener?.close();
  }

  async #run(wakeup: Wakeup): Promise<void> {
    const { batchSize, leaseMs, maxAttempts, pollIntervalMs } = this.settings;
    // Names this loop's claims: a claim can commit while its answer is lost (the connection or the
    // database dies in between), and then only this name finds those events again.
    const claimer = randomUUID();
    let claimInDoubt = false;
    while (!this.#stopping) {
      await this.#listener?.ensure();
      if (this.#stranded.length > 0) await this.#handBackStranded();
      // stop() may have come while we were awaiting: claim nothing after it.
      if (this.#stopping) break;
      let claimed;
      try {
        if (claimInDoubt) {
          const handedBack = await releaseClaims(this.#deps.db, this.#deps.schema, claimer);
          claimInDoubt = false;
          if (handedBack > 0) this.#logger.info({ events: handedBack }, 'handed back events claimed just before the database went away');
        }
        claimed = await claimEvents(this.#deps.db, this.#deps.schema, { limit: batchSize, leaseMs, maxAttempts, claimer });
        if (this.#failures > 0) this.#logger.info('apply worker reconnected to the database');
        this.#failures = 0;
      } catch (error) {
        claimInDoubt = true;
        await this.#databaseTrouble(error, wakeup);
        continue;
      }
      const live: string[] = [];
      for (const c of claimed) {
        if (c.status === 'dead') {
          this.stats.dead++;
          this.#deps.onOutcome?.('dead', 'unknown', 0);
          this.#logger.error({ svixId: c.id, attempts: c.attempts }, 'event dead: its last attempt never reported back');
        } else live.push(c.id);
      }
      if (live.length > 0) {
        try {
          const result = await applyBatch(this.#deps, live, () => this.#stopping);
          this.stats.batches++;
          addCounts(this.stats, result.counts);
          if (result.unfinished.length > 0) await this.#handBack(result.unfinished);
        } catch (error) {
          // applyBatch records every failure itself; anything escaping it is a bug, and must not
          // end the loop (the claims come back after their lease).
          this.#logger.error({ events: live.length, err: { message: (error as Error)?.message } }, 'apply batch failed unexpectedly');
          await wakeup.wait(outageDelay(1));
        }
      }
      // A short claim means nothing else is due: sleep until told otherwise.
      if (claimed.length < batchSize) await wakeup.wait(pollIntervalMs);
    }
  }

  async #handBack(ids: string[]): Promise<void> {
    if (!this.#stopping) {
      // The database went away mid-batch: give the events back as soon as it returns rather than
      // leaving them to wait out their lease.
      this.#stranded.push(...ids);
      return;
    }
    try {
      await releaseEvents(this.#deps.db, this.#deps.schema, ids);
    } catch (error) {
      this.#logger.warn({ events: ids.length, err: { message: (error as Error)?.message } }, 'could not hand back claimed events; they return after their lease');
    }
  }

  async #handBackStranded(): Promise<void> {
    const ids = this.#stranded;
    this.#stranded = [];
    try {
      await releaseEvents(this.#deps.db, this.#deps.schema, ids);
    } catch {
      // Still unreachable: the claim below fails too and backs off; try again next round.
      this.#stranded.push(...ids);
    }
  }

  async #databaseTrouble(error: unknown, wakeup: Wakeup): Promise<void> {
    this.#failures++;
    if (this.#failures === 1) {
      const message = isDatabaseUnavailable(error) ? 'apply worker cannot reach the database; retrying' : 'apply worker could not claim events; retrying';
      this.#logger.error({ err: { message: (error as Error)?.message, code: (error as { code?: string })?.code } }, message);
    }
    await this.#listener?.reset();
    await wakeup.wait(outageDelay(this.#failures));
  }
}
