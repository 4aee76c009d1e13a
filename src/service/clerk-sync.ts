/**
 * Composition root: `createClerkSync(options)` builds the stages in the order data flows through
 * them: database (database.ts) → metrics, which observe the rest (metrics.ts) → receiver and inbox
 * (intake.ts) → apply and side effects (processing.ts) → the operator's tools (operator.ts).
 * Construction is synchronous and touches nothing outside the process (Next.js imports route
 * modules at build time without env or database); each stage opens what it needs, and imports
 * the code for it, on first use.
 */
import type { Logger } from 'pino';
import { resolveConfig, type ClerkSyncOptions, type ResolvedConfig } from '../core/config.js';
import type { Db } from '../core/db.js';
import { createLogger } from '../core/logger.js';
import type { MigrateResult } from '../db/migrate.js';
import type { InboxItem } from '../inbox/enqueue.js';
import type { Delivery, DeliveryOutcome, ReceiverAnswer } from '../receive/receiver.js';
import { createDeliveryLimits } from '../receive/rate-limit.js';
import { parseSigningSecrets, type SigningKey } from '../verify/index.js';
import type { BackfillService } from '../backfill/service.js';
import type { ClerkSyncMetrics } from '../metrics/index.js';
import type { OutboxReplaySelector } from '../outbox/replay.js';
import type { OutboxRegistry } from '../outbox/registry.js';
import type { DrainSummary, RunningWorker } from '../apply/runner.js';
import type { ReplaySelector } from '../apply/replay.js';
import type { Hooks } from '../projections/hooks.js';
import type { ReprojectOptions, ReprojectResult } from '../projections/reproject.js';
import type { PruneOptions, PruneResult } from '../apply/prune.js';
import { createDatabase, type Readiness } from './database.js';
import { createIntake } from './intake.js';
import { createLazyMetrics } from './metrics.js';
import { createOperator } from './operator.js';
import { createProcessing } from './processing.js';

export type { Readiness } from './database.js';

export interface ClerkSync {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  /**
   * Web-standard webhook handler: `export const POST = clerkSync.handleWebhook` in Next.js. Pass
   * `{ clientIp }` when the platform gives the caller's address, or set `trustProxy` to the header
   * it forwards; without either, rate limits cannot tell callers apart and do not apply.
   */
  readonly handleWebhook: (request: Request, context?: { clientIp?: string }) => Promise<Response>;
  /** The same on plain values (used by the Node adapter to skip building a Request). */
  readonly receive: (delivery: Delivery) => Promise<ReceiverAnswer>;
  /** The opened (and, with autoMigrate, migrated) database. */
  db(): Promise<Db>;
  migrate(): Promise<MigrateResult>;
  readiness(): Promise<Readiness>;
  /** Observers of delivery outcomes (metrics, rate limits). */
  onDelivery(listener: (outcome: DeliveryOutcome, elapsedMs: number) => void): void;
  /** Run after each newly stored delivery is committed (inline mode); `appliedAtIntake` says whether it is applied already. */
  setAfterCommit(fn: ((item: InboxItem, commit: { appliedAtIntake: boolean }) => Promise<void>) | undefined): void;
  /** Prometheus metrics of this instance, in its own registry; `handleMetrics` serves them. Counting starts when either is first used. */
  readonly metrics: ClerkSyncMetrics;
  readonly handleMetrics: (request: Request) => Promise<Response>;
  /**
   * The admin page and API (docs/admin.md); answers 404 unless `adminToken` is set.
   * `context.clientIp`: the peer address (the standalone server passes it), for the login throttle.
   */
  readonly handleAdmin: (request: Request, context?: { clientIp?: string }) => Promise<Response>;
  /** Backfill, reconcile and read-through from Clerk's Backend API; they need `clerkSecretKey` (docs/backfill.md). */
  readonly backfill: BackfillService['backfill'];
  readonly reconcile: BackfillService['reconcile'];
  /** The user's row, fetched from the Backend API and applied at once when the webhook has not arrived yet. */
  readonly ensureUser: BackfillService['ensureUser'];
  readonly ensureOrganization: BackfillService['ensureOrganization'];
  /** Applies backfilled events still pending (for backfills run without a worker). */
  readonly applyBackfilled: BackfillService['applyBackfilled'];
  /** The latest backfill run and where each of its listings stands (clerk.backfill_state). */
  readonly backfillStatus: BackfillService['backfillStatus'];
  /** Your code inside the apply transaction: `sync.hooks.on('user.created', async (event, tx) => …)` (docs/worker.md). */
  readonly hooks: Hooks;
  /** Side effects by kind: `sync.outbox.register('crm.sync', async (row) => …)` (docs/side-effects.md). */
  readonly outbox: OutboxRegistry;
  /** Starts the background worker in this process: apply loops and the outbox dispatcher (docs/worker.md). */
  startWorker(options?: { apply?: boolean; dispatch?: boolean }): Promise<RunningWorker>;
  /** Applies every event due now and sends every side effect due now, then resolves; `budgetMs` bounds it (nothing is claimed after). */
  drain(options?: { dispatch?: boolean; budgetMs?: number }): Promise<DrainSummary>;
  /** Recomputes the typed columns of every projected row from the data it holds (after an upgrade adds columns); resumable. */
  reproject(options?: Omit<ReprojectOptions, 'schema' | 'projections'>): Promise<ReprojectResult>;
  /** Queues stored events to be applied again (by ids, type, time range, statuses); returns how many. */
  replay(selector: ReplaySelector): Promise<number>;
  /** Queues side effects to be sent again (dead ones by default); returns how many. */
  replayOutbox(selector?: OutboxReplaySelector): Promise<number>;
  /** Retention now (decision 0005): `days` defaults to `retentionDays`; throws invalid_config when that is 0 and none is given. */
  prune(options?: Partial<Omit<PruneOptions, 'schema'>>): Promise<PruneResult>;
  close(): Promise<void>;
}

export function createClerkSync(options: ClerkSyncOptions = {}): ClerkSync {
  const config = resolveConfig(options);
  // A malformed secret is a start-up error (thrown here); a missing one answers 500 per request.
  const keys: SigningKey[] | null = config.secret === undefined ? null : parseSigningSecrets(config.secret);
  const logger = config.logger === false ? createLogger('silent') : (config.logger ?? createLogger(config.logLevel));
  const now = config.now ?? Date.now;
  // Built here so a malformed allow-list or trustProxy fails at construction; Redis opens on first use.
  const limits = createDeliveryLimits(config, logger);

  const database = createDatabase(config);
  const metrics = createLazyMetrics(database.ready, config.schema);
  const intake = createIntake({ config, keys, ready: database.ready, logger, now, limits });
  intake.onDelivery((outcome, ms) => metrics.current()?.observeDelivery(outcome, ms));
  const processing = createProcessing({ config, ready: database.ready, logger, metrics });
  intake.applyWith(processing.intakeApplier);
  // Inline mode (serverless): apply in the request (at intake, or else right after the inbox
  // commit), then send. A failure is logged by the receiver and the answer stays 2xx: the event is
  // stored and waits for a worker or `clerk-sync drain`.
  if (config.mode === 'inline') intake.setAfterCommit(processing.inline);
  const operator = createOperator({ config, ready: database.ready, logger, now, metrics, hooks: processing.hooks });

  return {
    config,
    logger,
    handleWebhook: intake.handleWebhook,
    receive: intake.receive,
    get metrics() {
      return metrics.get();
    },
    ...operator,
    hooks: processing.hooks,
    outbox: processing.outbox,
    startWorker: processing.startWorker,
    drain: processing.drain,
    db: database.ready,
    migrate: database.migrate,
    readiness: database.readiness,
    onDelivery: intake.onDelivery,
    setAfterCommit: intake.setAfterCommit,
    async close() {
      await processing.stop();
      await limits.close();
      await database.close();
    },
  };
}
