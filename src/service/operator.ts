/**
 * The last stage: what an operator drives: backfill, reconcile and read-through from Clerk's
 * Backend API, replay, reproject, the admin page and the metrics endpoint. Each part is imported
 * by its first use, so a webhook route pays for none of them.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../core/config.js';
import type { Db } from '../core/db.js';
import { errorBody } from '../core/errors.js';
import type { ApplyDeps } from '../apply/apply-batch.js';
import { replayEvents } from '../apply/replay.js';
import type { BackfillService } from '../backfill/service.js';
import { handleMetricsRequest } from '../metrics/index.js';
import { replayOutbox } from '../outbox/replay.js';
import type { Hooks } from '../projections/hooks.js';
import type { ClerkSync } from './clerk-sync.js';
import type { LazyMetrics } from './metrics.js';

export interface OperatorOptions {
  config: Pick<ResolvedConfig, 'schema' | 'deleteMode' | 'clerkSecretKey' | 'clerkApiUrl' | 'clerkApiRequestsPerSecond' | 'adminToken' | 'trustProxy' | 'retentionDays'>;
  ready: () => Promise<Db>;
  logger: Logger;
  now: () => number;
  metrics: LazyMetrics;
  /** The app's hooks run when backfilled events are applied, as they do when the worker applies them. */
  hooks: Hooks;
}

/** ClerkSync's operator members, documented there; the composition root spreads them in. */
export type Operator = Pick<
  ClerkSync,
  'backfill' | 'reconcile' | 'ensureUser' | 'ensureOrganization' | 'applyBackfilled' | 'backfillStatus' | 'reproject' | 'replay' | 'replayOutbox' | 'prune' | 'handleAdmin' | 'handleMetrics'
>;

export function createOperator({ config, ready, logger, now, metrics, hooks }: OperatorOptions): Operator {
  let backfillService: Promise<BackfillService> | undefined;
  const service = (): Promise<BackfillService> =>
    (backfillService ??= (async () => {
      const [{ createBackfillService }, { applyBatch, applyInTransaction }, { applyAtIntake }, { NO_SIDE_EFFECTS }, { DEFAULT_WORKER_SETTINGS }] = await Promise.all([
        import('../backfill/service.js'),
        import('../apply/apply-batch.js'),
        import('../apply/intake.js'),
        import('../apply/side-effects.js'),
        import('../apply/worker.js'),
      ]);
      // Backfilled events fire no side effects whatever the rules, so these apply paths need none.
      const applyDeps = async (): Promise<ApplyDeps> => ({
        db: await ready(),
        schema: config.schema,
        logger,
        context: { schema: config.schema, deleteMode: config.deleteMode, hooks, logger },
        effects: NO_SIDE_EFFECTS,
        retry: DEFAULT_WORKER_SETTINGS,
      });
      return createBackfillService({
        db: ready,
        schema: config.schema,
        secretKey: config.clerkSecretKey,
        apiUrl: config.clerkApiUrl,
        requestsPerSecond: config.clerkApiRequestsPerSecond,
        observer: {
          observeBackfill: (resource, listed, stored) => metrics.current()?.observeBackfill(resource, listed, stored),
          setBackfillProgress: (resource, done, total) => metrics.current()?.setBackfillProgress(resource, done, total),
          observeBackfillRequest: (operation, status) => metrics.current()?.observeBackfillRequest(operation, status),
        },
        logger,
        now,
        apply: async (tx, ids) => applyInTransaction(tx, await applyDeps(), ids),
        applyPage: async (tx, items) => void (await applyAtIntake(await applyDeps(), tx, items)),
        applyBatch: async (ids) => (await applyBatch(await applyDeps(), ids)).counts,
      });
    })());

  let adminHandler: Promise<Operator['handleAdmin']> | undefined;
  const adminToken = config.adminToken;
  const handleAdmin: Operator['handleAdmin'] = adminToken
    ? async (request, context) => {
        adminHandler ??= import('../admin/index.js').then(({ createAdminHandler }) =>
          createAdminHandler({
            db: ready,
            schema: config.schema,
            token: adminToken,
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
    backfill: async (options) => (await service()).backfill(options),
    reconcile: async (options) => (await service()).reconcile(options),
    ensureUser: async (userId) => (await service()).ensureUser(userId),
    ensureOrganization: async (organizationId) => (await service()).ensureOrganization(organizationId),
    applyBackfilled: async (options) => (await service()).applyBackfilled(options),
    backfillStatus: async () => (await service()).backfillStatus(),
    async reproject(options = {}) {
      const [db, { reproject, PROJECTIONS }] = await Promise.all([ready(), import('../projections/index.js')]);
      return reproject(db, { ...options, schema: config.schema, projections: PROJECTIONS });
    },
    replay: async (selector) => replayEvents(await ready(), config.schema, selector),
    replayOutbox: async (selector = { statuses: ['dead'] }) => replayOutbox(await ready(), config.schema, selector),
    async prune(options = {}) {
      const [db, { prune, retentionOrThrow }] = await Promise.all([ready(), import('../apply/prune.js')]);
      return prune(db, { ...options, days: options.days ?? retentionOrThrow(config.retentionDays), schema: config.schema });
    },
    handleAdmin,
    handleMetrics: (request) => handleMetricsRequest(metrics.get(), request),
  };
}
