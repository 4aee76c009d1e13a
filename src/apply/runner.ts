/**
 * What the composition root starts: the background worker (apply loops plus the outbox
 * dispatcher), `drain`, and inline mode's apply-in-the-request, all sharing one configuration.
 * The side-effect rules are settled when work starts: a built-in effect is written only when it
 * is wanted and this process has a sender for its kind (built in, or registered by you), so a
 * welcome email is never queued for a Resend that is not configured.
 */
import type { Logger } from 'pino';
import type { Db } from '../core/db.js';
import type { IntakeApply } from '../inbox/group-commit.js';
import { Dispatcher, type DispatchCounts, type DispatchOutcome, type DispatcherSettings } from '../outbox/dispatcher.js';
import type { OutboxRegistry } from '../outbox/registry.js';
import type { Hooks } from '../projections/index.js';
import type { ApplyDeps, EventOutcome } from './apply-batch.js';
import { drainEvents, type DrainResult } from './drain.js';
import { applyInline } from './inline.js';
import { intakeApply } from './intake.js';
import { PruneSchedule } from './prune.js';
import { effectiveRules, type SideEffectRules } from './side-effects.js';
import { Worker, type WorkerSettings } from './worker.js';

export interface RunnerOptions {
  db: () => Promise<Db>;
  schema: string;
  logger: Logger;
  deleteMode: 'soft' | 'scrub';
  hooks: Hooks;
  registry: OutboxRegistry;
  /** The built-in effects asked for (config `sideEffects`). */
  sideEffects: SideEffectRules;
  worker: WorkerSettings & { shutdownTimeoutMs: number };
  outbox: DispatcherSettings;
  /** Retention in days (decision 0005); 0 keeps everything. The apply worker prunes on a timer. */
  retentionDays: number;
  /** What is on and off among the senders, logged once when work first starts. */
  notes: readonly string[];
  onApply?: (type: string, outcome: Exclude<EventOutcome, 'skipped'>, elapsedMs: number) => void;
  onSend?: (kind: string, outcome: DispatchOutcome) => void;
}

export interface RunningWorker {
  readonly worker: Worker | undefined;
  readonly dispatcher: Dispatcher | undefined;
  /** Graceful stop: no new claims, the batch and sends under way finish (bounded), claims handed back. */
  stop(): Promise<void>;
}

export interface DrainSummary {
  events: DrainResult;
  /** Null when no sender is configured here (rows stay for a process that has one). */
  outbox: DispatchCounts | null;
}

export class Runner {
  readonly #options: RunnerOptions;
  readonly #running = new Set<RunningWorker>();
  #announced = false;
  #oneShot: Dispatcher | undefined;

  constructor(options: RunnerOptions) {
    this.#options = options;
    this.intake = intakeApply(async () => this.#deps(await options.db()), options.hooks);
  }

  /** Starts apply loops and/or the dispatcher in this process. */
  async start({ apply = true, dispatch = true }: { apply?: boolean; dispatch?: boolean } = {}): Promise<RunningWorker> {
    const o = this.#options;
    const db = await o.db();
    this.#announce(dispatch);
    const deps = this.#deps(db);
    // PGlite is one connection: a second loop would only queue behind the first.
    const concurrency = db.kind === 'pglite' ? 1 : o.worker.concurrency;
    const worker = apply ? new Worker({ ...deps, ...o.worker, concurrency }) : undefined;
    const dispatcher = dispatch && o.registry.kinds().length > 0 ? this.#dispatcher(db, true) : undefined;
    // Pruning goes with applying: every deployment that applies events runs it, serve or worker.
    const { retentionDays } = o;
    const pruning = apply && retentionDays > 0 ? new PruneSchedule({ db, schema: o.schema, days: retentionDays, logger: o.logger }) : undefined;
    worker?.start();
    dispatcher?.start();
    pruning?.start();
    o.logger.info(
      { apply, dispatch: dispatcher !== undefined, concurrency, batchSize: o.worker.batchSize, kinds: dispatcher ? o.registry.kinds() : [], retentionDays },
      'clerk-sync worker started',
    );
    let stopping: Promise<void> | undefined;
    const handle: RunningWorker = {
      worker,
      dispatcher,
      stop: () =>
        (stopping ??= (async () => {
          this.#running.delete(handle);
          const timeoutMs = o.worker.shutdownTimeoutMs;
          await Promise.all([worker?.stop({ timeoutMs }), dispatcher?.stop({ timeoutMs }), pruning?.stop()]);
          o.logger.info('clerk-sync worker stopped');
        })()),
    };
    this.#running.add(handle);
    return handle;
  }

  /**
   * Applies every event due now, then sends every side effect due now; resolves when done, or
   * when `budgetMs` has passed (nothing new is claimed after it; what is under way finishes).
   */
  async drain({ dispatch = true, budgetMs }: { dispatch?: boolean; budgetMs?: number } = {}): Promise<DrainSummary> {
    const deadline = budgetMs === undefined ? undefined : Date.now() + budgetMs;
    const db = await this.#options.db();
    this.#announce(dispatch);
    const events = await drainEvents(this.#deps(db), { batchSize: this.#options.worker.batchSize, leaseMs: this.#options.worker.leaseMs, deadline });
    const canSend = dispatch && this.#options.registry.kinds().length > 0;
    return { events, outbox: canSend ? await this.#oneShotDispatcher(db).drain(deadline) : null };
  }

  /** Whether a worker applies events in this process now. */
  get applying(): boolean {
    for (const r of this.#running) if (r.worker) return true;
    return false;
  }

  /** Applies just-stored deliveries in the transaction that stores them (apply/intake.ts). */
  readonly intake: IntakeApply;

  /**
   * Inline mode: apply the event just stored (unless it was applied at intake), then send what it
   * caused. Throws when the apply failed.
   */
  async inline(id: string, { appliedAtIntake = false }: { appliedAtIntake?: boolean } = {}): Promise<void> {
    const db = await this.#options.db();
    this.#announce(true);
    const outcome = appliedAtIntake ? 'applied' : await applyInline(this.#deps(db), id);
    if (outcome === 'skipped' || this.#options.registry.kinds().length === 0) return;
    const dispatcher = this.#oneShotDispatcher(db);
    // Rows that fail are rescheduled (not due), so this ends once each has had its try; a row
    // handed back (shutdown) is left to the next dispatcher.
    for (;;) {
      const c = await dispatcher.dispatchOnce({ eventId: id });
      if (c.sent + c.failed + c.dead === 0 || c.released > 0) return;
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((r) => r.stop()));
  }

  #deps(db: Db): ApplyDeps {
    const o = this.#options;
    return {
      db,
      schema: o.schema,
      logger: o.logger,
      context: { schema: o.schema, deleteMode: o.deleteMode, hooks: o.hooks, logger: o.logger },
      effects: effectiveRules(o.sideEffects, (kind) => o.registry.has(kind)),
      retry: { maxAttempts: o.worker.maxAttempts, retryBaseMs: o.worker.retryBaseMs, retryMaxMs: o.worker.retryMaxMs },
      onOutcome: (outcome, type, elapsedMs) => {
        if (outcome !== 'skipped') o.onApply?.(type, outcome, elapsedMs);
      },
    };
  }

  #dispatcher(db: Db, listen: boolean): Dispatcher {
    const o = this.#options;
    return new Dispatcher({ db, schema: o.schema, registry: o.registry, logger: o.logger, listen, ...o.outbox, onOutcome: o.onSend });
  }

  #oneShotDispatcher(db: Db): Dispatcher {
    this.#oneShot ??= this.#dispatcher(db, false);
    return this.#oneShot;
  }

  #announce(dispatch: boolean): void {
    if (this.#announced) return;
    this.#announced = true;
    for (const note of this.#options.notes) this.#options.logger.info(note);
    const custom = this.#options.registry.kinds().filter((k) => !k.startsWith('email.') && !k.startsWith('slack.'));
    if (custom.length > 0) this.#options.logger.info({ kinds: custom }, 'custom side effects registered');
    if (!dispatch) this.#options.logger.info('this process does not send side effects (--no-dispatch); another one must');
  }
}
