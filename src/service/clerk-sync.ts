/**
 * Composition root: `createClerkSync(options)` wires the database, the receiver and the later
 * stages. Construction is synchronous and touches nothing outside the process (Next.js imports
 * route modules at build time without env or database); the database is opened, and migrated
 * when `autoMigrate` is on, on first use.
 */
import type { Logger } from 'pino';
import { resolveConfig, type ClerkSyncOptions, type ResolvedConfig } from '../core/config.js';
import type { Db } from '../core/db.js';
import { isDatabaseUnavailable } from '../core/db.js';
import { errorBody } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { migrate, pendingMigrations, type MigrateResult } from '../db/migrate.js';
import { InboxWriter } from '../inbox/group-commit.js';
import type { InboxItem } from '../inbox/enqueue.js';
import { beforeDeadline, deliveryDeadline, handleWebhookRequest, receiveDelivery, TIMED_OUT, type Delivery, type DeliveryOutcome, type ReceiverAnswer, type ReceiverDeps } from '../receive/receiver.js';
import { createDeliveryLimits } from '../receive/rate-limit.js';
import { parseSigningSecrets, type SigningKey } from '../verify/index.js';
import { applyBatch, applyInTransaction, type ApplyDeps } from '../apply/apply-batch.js';
import { applyAtIntake } from '../apply/intake.js';
import { replayEvents } from '../apply/replay.js';
import { NO_SIDE_EFFECTS } from '../apply/side-effects.js';
import { DEFAULT_WORKER_SETTINGS } from '../apply/worker.js';
import { createBackfillService, type BackfillService } from '../backfill/index.js';
import { createMetrics, createQueueStatsReader, handleMetricsRequest, type ClerkSyncMetrics } from '../metrics/index.js';
import { replayOutbox, type OutboxReplaySelector } from '../outbox/replay.js';
import { OutboxRegistry } from '../outbox/registry.js';
import { Runner, type DrainSummary, type RunningWorker } from '../apply/runner.js';
import { prune, retentionOrThrow, type PruneOptions, type PruneResult } from '../apply/prune.js';
import type { ReplaySelector } from '../apply/replay.js';
import { Hooks, PROJECTIONS, reproject, type ReprojectOptions, type ReprojectResult } from '../projections/index.js';
import { configuredSenders } from '../senders/index.js';

export interface Readiness {
  ok: boolean;
  database: 'ok' | 'unreachable' | 'error';
  pendingMigrations: string[];
  message?: string;
}

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
  /** The admin page and API (docs/admin.md); answers 404 unless `adminToken` is set. */
  /** `context.clientIp`: the peer address (the standalone server passes it), for the login throttle. */
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

  let opened: Promise<Db> | undefined;
  let migrated: Promise<unknown> | undefined;
  const openDb = (): Promise<Db> => {
    opened ??= (async () => {
      if (config.db) return config.db;
      // Each driver is imported by the first connection that needs it: a route on Postgres never
      // loads PGlite, and importing the route loads neither.
      if (config.databaseUrl) {
        const { createPgDb } = await import('../db/pg.js');
        return createPgDb({ connectionString: config.databaseUrl, max: config.poolSize, preparedStatements: config.preparedStatements });
      }
      const { createPGliteDb } = await import('../db/pglite.js');
      return createPGliteDb(config.dataDir);
    })();
    return opened;
  };
  const runMigrations = async () => migrate(await openDb(), { schema: config.schema });
  const ready = async (): Promise<Db> => {
    const db = await openDb();
    if (config.autoMigrate) {
      migrated ??= runMigrations().catch((error: unknown) => {
        migrated = undefined; // retry on the next request (the database may have been down)
        throw error;
      });
      await migrated;
    }
    return db;
  };

  const listeners: Array<(o: DeliveryOutcome, ms: number) => void> = [];
  let afterCommit: ((item: InboxItem, commit: { appliedAtIntake: boolean }) => Promise<void>) | undefined;
  let receiverDeps: ReceiverDeps | undefined;
  const deps = async (): Promise<ReceiverDeps> => {
    if (receiverDeps) return receiverDeps;
    const db = await ready();
    receiverDeps = {
      keys,
      db,
      schema: config.schema,
      // Apply at intake only where this process applies events anyway, so the hooks, senders and
      // side-effect rules are those its worker would use (apply/intake.ts).
      writer: new InboxWriter(db, config.schema, config.intake, () =>
        config.intake.apply && (config.mode === 'inline' || runner.applying) ? runner.intake : undefined,
      ),
      maxBodyBytes: config.maxBodyBytes,
      toleranceSeconds: config.toleranceSeconds,
      now,
      logger,
      afterCommit: (item, commit) => (afterCommit ? afterCommit(item, commit) : Promise.resolve()),
      onOutcome: (o, ms) => {
        for (const l of listeners) l(o, ms);
      },
      limits,
      deliveryTimeoutMs: config.deliveryTimeoutMs,
    };
    return receiverDeps;
  };

  const unavailable = (error: unknown): ReceiverAnswer => {
    const down = isDatabaseUnavailable(error);
    logger.error({ err: { message: (error as Error)?.message } }, down ? 'database unavailable' : 'clerk-sync failed to start');
    return {
      status: down ? 503 : 500,
      body: down ? errorBody('database_unavailable') : errorBody('internal_error'),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    };
  };

  /** The receiver's dependencies, within the delivery's deadline: the first use opens and migrates the database. */
  const depsBefore = async (arrivedAt: number): Promise<ReceiverDeps | ReceiverAnswer> => {
    try {
      const d = await beforeDeadline(deps(), deliveryDeadline(config, arrivedAt));
      if (d === TIMED_OUT) return unavailable(Object.assign(new Error('the database did not answer within the delivery timeout'), { code: 'ETIMEDOUT' }));
      return d;
    } catch (error) {
      return unavailable(error);
    }
  };

  const receive = async (delivery: Delivery): Promise<ReceiverAnswer> => {
    const arrivedAt = delivery.arrivedAt ?? performance.now();
    const d = await depsBefore(arrivedAt);
    return 'writer' in d ? receiveDelivery(d, { ...delivery, arrivedAt }) : d;
  };

  const handleWebhook = async (request: Request, context?: { clientIp?: string }): Promise<Response> => {
    const arrivedAt = performance.now();
    const d = await depsBefore(arrivedAt);
    if (!('writer' in d)) return new Response(d.body, { status: d.status, headers: d.headers });
    // Next.js passes its own second argument ({ params }): only a string clientIp is taken.
    const clientIp = typeof context?.clientIp === 'string' ? context.clientIp : undefined;
    return handleWebhookRequest(d, request, clientIp, arrivedAt);
  };

  // Created when first asked for (sync.metrics, handleMetrics; the standalone server at start),
  // so an app that never serves /metrics never loads prom-client; until then nothing is counted.
  let metricsInstance: ClerkSyncMetrics | undefined;
  const metrics = (): ClerkSyncMetrics => (metricsInstance ??= createMetrics({ queueStats: createQueueStatsReader(ready, config.schema) }));
  listeners.push((outcome, ms) => metricsInstance?.observeDelivery(outcome, ms));
  // Backfilled events fire no side effects whatever the rules, so these apply paths need none;
  // the app's hooks do run, as they do when the worker applies backfilled events.
  const backfillApply = async (): Promise<ApplyDeps> => ({
    db: await ready(),
    schema: config.schema,
    logger,
    context: { schema: config.schema, deleteMode: config.deleteMode, hooks, logger },
    effects: NO_SIDE_EFFECTS,
    retry: DEFAULT_WORKER_SETTINGS,
  });
  const operator = createBackfillService({
    db: ready,
    schema: config.schema,
    secretKey: config.clerkSecretKey,
    apiUrl: config.clerkApiUrl,
    requestsPerSecond: config.clerkApiRequestsPerSecond,
    observer: {
      observeBackfill: (resource, listed, stored) => metricsInstance?.observeBackfill(resource, listed, stored),
      setBackfillProgress: (resource, done, total) => metricsInstance?.setBackfillProgress(resource, done, total),
      observeBackfillRequest: (operation, status) => metricsInstance?.observeBackfillRequest(operation, status),
    },
    logger,
    now,
    apply: async (tx, ids) => applyInTransaction(tx, await backfillApply(), ids),
    applyPage: async (tx, items) => void (await applyAtIntake(await backfillApply(), tx, items)),
    applyBatch: async (ids) => (await applyBatch(await backfillApply(), ids)).counts,
  });
  const hooks = new Hooks();
  const outbox = new OutboxRegistry();
  const builtIn = configuredSenders(config);
  for (const sender of builtIn.senders) outbox.register(sender.kind, sender);
  const runner = new Runner({
    db: ready,
    schema: config.schema,
    logger,
    deleteMode: config.deleteMode,
    hooks,
    registry: outbox,
    sideEffects: config.sideEffects,
    worker: config.worker,
    outbox: config.outbox,
    notes: builtIn.notes,
    retentionDays: config.retentionDays,
    onApply: (type, outcome, ms) => metricsInstance?.observeApply(type, outcome, ms),
  });
  // Inline mode (serverless): apply in the request (at intake, or else right after the inbox
  // commit), then send. A failure is logged by the receiver and the answer stays 2xx: the event is
  // stored and waits for a worker or `clerk-sync drain`.
  if (config.mode === 'inline') afterCommit = (item, commit) => runner.inline(item.id, commit);

  // The admin page (views, queries) is loaded with its first request.
  let adminHandler: Promise<(request: Request, context?: { clientIp?: string }) => Promise<Response>> | undefined;
  const admin = config.adminToken
    ? async (request: Request, context?: { clientIp?: string }): Promise<Response> => {
        adminHandler ??= import('../admin/index.js').then(({ createAdminHandler }) =>
          createAdminHandler({
            db: ready,
            schema: config.schema,
            token: config.adminToken!,
            logger,
            now,
            trustProxy: config.trustProxy,
            replayEvents: async (ids) => replayEvents(await ready(), config.schema, { ids, statuses: ['dead', 'failed'] }),
            replayOutbox: async () => replayOutbox(await ready(), config.schema, { statuses: ['dead'] }),
          }),
        );
        return (await adminHandler)(request, context);
      }
    : async () => new Response(errorBody('not_found', 'The admin is off: set CLERK_SYNC_ADMIN_TOKEN'), { status: 404, headers: { 'content-type': 'application/json; charset=utf-8' } });

  return {
    config,
    logger,
    handleWebhook,
    receive,
    get metrics() {
      return metrics();
    },
    handleMetrics: (request) => handleMetricsRequest(metrics(), request),
    handleAdmin: admin,
    backfill: operator.backfill,
    reconcile: operator.reconcile,
    ensureUser: operator.ensureUser,
    ensureOrganization: operator.ensureOrganization,
    applyBackfilled: operator.applyBackfilled,
    backfillStatus: operator.backfillStatus,
    hooks,
    outbox,
    startWorker: (options) => runner.start(options),
    drain: (options) => runner.drain(options),
    reproject: async (options = {}) => reproject(await ready(), { ...options, schema: config.schema, projections: PROJECTIONS }),
    replay: async (selector) => replayEvents(await ready(), config.schema, selector),
    replayOutbox: async (selector = { statuses: ['dead'] }) => replayOutbox(await ready(), config.schema, selector),
    prune: async (options = {}) => prune(await ready(), { ...options, days: options.days ?? retentionOrThrow(config.retentionDays), schema: config.schema }),
    db: ready,
    migrate: runMigrations,
    async readiness() {
      const check = async (): Promise<Readiness> => {
        const db = await openDb();
        await db.query('select 1');
        const pending = await pendingMigrations(db, { schema: config.schema });
        return { ok: pending.length === 0, database: 'ok', pendingMigrations: pending };
      };
      try {
        const checking = check();
        checking.catch(() => {}); // past the timeout it goes on unheard
        const answer = await beforeDeadline(checking, performance.now() + config.readyTimeoutMs);
        if (answer === TIMED_OUT) return { ok: false, database: 'unreachable', pendingMigrations: [], message: `database did not answer within ${config.readyTimeoutMs} ms` };
        return answer;
      } catch (error) {
        return {
          ok: false,
          database: isDatabaseUnavailable(error) ? 'unreachable' : 'error',
          pendingMigrations: [],
          // Never the driver's text: it can name the database user, host or schema.
          message: isDatabaseUnavailable(error) ? 'database unreachable' : `database error${typeof (error as { code?: unknown }).code === 'string' ? ` (SQLSTATE ${(error as { code: string }).code})` : ''}`,
        };
      }
    },
    onDelivery(listener) {
      listeners.push(listener);
    },
    setAfterCommit(fn) {
      afterCommit = fn;
    },
    async close() {
      await runner.stopAll();
      await limits.close();
      if (!opened || config.db) return;
      // A database that never opened has nothing to close; its error was already the caller's.
      const db = await opened.catch(() => undefined);
      await db?.close();
    },
  };
}
