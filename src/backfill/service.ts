/**
 * Backfill, reconcile and read-through bound to one ClerkSync: its database, schema, Backend API
 * credentials, apply function and metrics. The composition root builds one; nothing here reads
 * the environment.
 */
import type { Logger } from 'pino';
import type { Db, Queryable } from '../core/db.js';
import type { InboxItem } from '../inbox/enqueue.js';
import { ClerkSyncError } from '../core/errors.js';
import { applyPendingBackfill, type ApplyCounts } from './apply-pending.js';
import { createClerkApi, type ClerkApi, type ClerkApiOptions } from './clerk-api.js';
import { ensureEntity, type EnsuredRow } from './ensure.js';
import { runReconcile, type ReconcileOptions, type ReconcileResult } from './reconcile.js';
import { runBackfill, type BackfillOptions, type BackfillResult } from './run.js';
import { BackfillState, readBackfillStatus, type BackfillStatus } from './state.js';

/** What backfill reports to metrics (ClerkSyncMetrics has these). */
export interface BackfillObserver {
  observeBackfill(resource: string, listed: number, stored: number): void;
  setBackfillProgress(resource: string, done: number, total: number | undefined): void;
  observeBackfillRequest(operation: string, status: number): void;
}

export interface BackfillServiceOptions {
  db: () => Promise<Db>;
  schema: string;
  secretKey?: string;
  apiUrl?: string;
  /** @default 10 */
  requestsPerSecond?: number;
  apply: (tx: Queryable, ids: readonly string[]) => Promise<unknown>;
  /** Applies a page's new events in the transaction that stores them (written `applied`). */
  applyPage: (tx: Queryable, items: readonly InboxItem[]) => Promise<void>;
  /** Applies stored events by id in their own transactions (the worker's batch apply). */
  applyBatch: (ids: readonly string[]) => Promise<ApplyCounts>;
  observer?: BackfillObserver;
  logger: Logger;
  now?: () => number;
}

export type RunOptions = Omit<BackfillOptions, 'db' | 'schema' | 'api' | 'state'> &
  Pick<ClerkApiOptions, 'maxRequests' | 'requestsPerSecond' | 'signal'> & {
    /** Keep the position in memory only (no resume, no lock). @default false: in clerk.backfill_state */
    ephemeral?: boolean;
    /** Apply each page in the transaction that stores it (`clerk-sync backfill` unless --no-apply). @default false: store only */
    applyPages?: boolean;
  };
export type RunReconcileOptions = Omit<ReconcileOptions, 'db' | 'schema' | 'api'> & Pick<ClerkApiOptions, 'maxRequests' | 'requestsPerSecond' | 'signal'>;

export interface BackfillService {
  /** Pages through the Backend API into the inbox (source 'backfill'); resumes the open run kept in the database. */
  backfill(options?: RunOptions): Promise<BackfillResult>;
  /** The latest backfill run and where each of its listings stands; null before the first. */
  backfillStatus(): Promise<BackfillStatus | null>;
  /** A full pass that also tombstones rows whose entity Clerk no longer has. */
  reconcile(options?: RunReconcileOptions): Promise<ReconcileResult>;
  /** The user's row, fetched from the Backend API and applied now when it is missing. */
  ensureUser(userId: string): Promise<EnsuredRow | null>;
  ensureOrganization(organizationId: string): Promise<EnsuredRow | null>;
  /** Applies backfilled events still pending (a worker does it too; this is for runs without one). */
  applyBackfilled(options?: { onProgress?: (done: number, total: number) => void }): Promise<ApplyCounts>;
}

export function createBackfillService(options: BackfillServiceOptions): BackfillService {
  const api = (extra: Pick<ClerkApiOptions, 'maxRequests' | 'requestsPerSecond' | 'signal'> = {}): ClerkApi => {
    if (!options.secretKey) {
      throw new ClerkSyncError('invalid_config', 'Backfill needs a Clerk secret key: set CLERK_SECRET_KEY (Clerk Dashboard → Configure → API keys), or the clerkSecretKey option');
    }
    return createClerkApi({
      secretKey: options.secretKey,
      apiUrl: options.apiUrl,
      requestsPerSecond: extra.requestsPerSecond ?? options.requestsPerSecond,
      maxRequests: extra.maxRequests,
      signal: extra.signal,
      now: options.now,
      onRequest: ({ operation, status }) => {
        options.observer?.observeBackfillRequest(operation, status);
        if (status === 429) options.logger.warn({ operation }, 'Clerk Backend API rate limit: waiting for Retry-After');
        else if (status === 0 || status >= 500) options.logger.warn({ operation, status }, 'Clerk Backend API request failed; retrying');
      },
    });
  };
  const observe = <T extends Omit<BackfillOptions, 'db' | 'schema' | 'api'>>(run: T): T => ({
    ...run,
    onStored: (resource, listed, stored) => {
      options.observer?.observeBackfill(resource, listed, stored);
      run.onStored?.(resource, listed, stored);
    },
    onProgress: (p) => {
      options.observer?.setBackfillProgress(p.resource, p.done, p.total);
      run.onProgress?.(p);
    },
  });
  let shared: ClerkApi | undefined;
  const ensure = async (kind: 'user' | 'organization', id: string) => {
    shared ??= api();
    return ensureEntity({ db: await options.db(), schema: options.schema, api: shared, apply: options.apply, now: options.now }, kind, id);
  };

  return {
    async backfill(run = {}) {
      const { maxRequests, requestsPerSecond, signal, ephemeral, applyPages, ...rest } = run;
      const db = await options.db();
      const state = ephemeral ? undefined : new BackfillState(db, options.schema);
      const applyPage = applyPages ? options.applyPage : undefined;
      return runBackfill({ ...observe(rest), signal, db, schema: options.schema, state, applyPage, api: api({ maxRequests, requestsPerSecond, signal }), now: options.now });
    },
    async backfillStatus() {
      return readBackfillStatus(await options.db(), options.schema);
    },
    async reconcile(run = {}) {
      const { maxRequests, requestsPerSecond, signal, ...rest } = run;
      const db = await options.db();
      // Reconcile stores the same events a backfill does: not while one is running.
      await new BackfillState(db, options.schema).refuseIfRunning();
      return runReconcile({ ...observe(rest), signal, db, schema: options.schema, api: api({ maxRequests, requestsPerSecond, signal }), now: options.now });
    },
    async applyBackfilled(run = {}) {
      return applyPendingBackfill({ db: await options.db(), schema: options.schema, applyBatch: options.applyBatch, ...run });
    },
    ensureUser: (id) => ensure('user', id),
    ensureOrganization: (id) => ensure('organization', id),
  };
}
