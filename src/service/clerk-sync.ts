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
import { createPgDb } from '../db/pg.js';
import { createPGliteDb } from '../db/pglite.js';
import { InboxWriter } from '../inbox/group-commit.js';
import type { InboxItem } from '../inbox/enqueue.js';
import { handleWebhookRequest, receiveDelivery, type Delivery, type DeliveryOutcome, type ReceiverAnswer, type ReceiverDeps } from '../receive/receiver.js';
import { createDeliveryLimits } from '../receive/rate-limit.js';
import { parseSigningSecrets, type SigningKey } from '../verify/index.js';

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
  /** Run after each newly stored delivery is committed (inline apply). */
  setAfterCommit(fn: ((item: InboxItem) => Promise<void>) | undefined): void;
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
      if (config.databaseUrl) return createPgDb({ connectionString: config.databaseUrl, max: config.poolSize });
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
  let afterCommit: ((item: InboxItem) => Promise<void>) | undefined;
  let receiverDeps: ReceiverDeps | undefined;
  const deps = async (): Promise<ReceiverDeps> => {
    if (receiverDeps) return receiverDeps;
    const db = await ready();
    receiverDeps = {
      keys,
      db,
      schema: config.schema,
      writer: new InboxWriter(db, config.schema, config.intake),
      maxBodyBytes: config.maxBodyBytes,
      toleranceSeconds: config.toleranceSeconds,
      now,
      logger,
      afterCommit: (item) => (afterCommit ? afterCommit(item) : Promise.resolve()),
      onOutcome: (o, ms) => {
        for (const l of listeners) l(o, ms);
      },
      limits,
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

  const receive = async (delivery: Delivery): Promise<ReceiverAnswer> => {
    let d: ReceiverDeps;
    try {
      d = await deps();
    } catch (error) {
      return unavailable(error);
    }
    return receiveDelivery(d, delivery);
  };

  const handleWebhook = async (request: Request, context?: { clientIp?: string }): Promise<Response> => {
    let d: ReceiverDeps;
    try {
      d = await deps();
    } catch (error) {
      const a = unavailable(error);
      return new Response(a.body, { status: a.status, headers: a.headers });
    }
    // Next.js passes its own second argument ({ params }): only a string clientIp is taken.
    const clientIp = typeof context?.clientIp === 'string' ? context.clientIp : undefined;
    return handleWebhookRequest(d, request, clientIp);
  };

  return {
    config,
    logger,
    handleWebhook,
    receive,
    db: ready,
    migrate: runMigrations,
    async readiness() {
      try {
        const db = await openDb();
        await db.query('select 1');
        const pending = await pendingMigrations(db, { schema: config.schema });
        return { ok: pending.length === 0, database: 'ok', pendingMigrations: pending };
      } catch (error) {
        return {
          ok: false,
          database: isDatabaseUnavailable(error) ? 'unreachable' : 'error',
          pendingMigrations: [],
          message: isDatabaseUnavailable(error) ? 'database unreachable' : (error as Error).message,
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
      await limits.close();
      if (opened && !config.db) await (await opened).close();
    },
  };
}
