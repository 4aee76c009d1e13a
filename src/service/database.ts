/**
 * The first stage of the composition: the database, opened on first use (construction touches
 * nothing outside the process: Next.js imports route modules at build time without env or
 * database) and migrated before first use when `autoMigrate` is on.
 */
import type { ResolvedConfig } from '../core/config.js';
import { isDatabaseUnavailable, type Db } from '../core/db.js';
import type { MigrateResult } from '../db/migrate.js';
import { beforeDeadline, TIMED_OUT } from '../core/deadline.js';

export interface Readiness {
  ok: boolean;
  database: 'ok' | 'unreachable' | 'error';
  pendingMigrations: string[];
  message?: string;
}

export interface Database {
  /** The opened database, not migrated. */
  open(): Promise<Db>;
  /** The opened and, with autoMigrate, migrated database: what every later stage uses. */
  ready(): Promise<Db>;
  migrate(): Promise<MigrateResult>;
  readiness(): Promise<Readiness>;
  /** Closes what this stage opened; a `db` passed in options belongs to the caller. */
  close(): Promise<void>;
}

type DatabaseSettings = Pick<ResolvedConfig, 'db' | 'databaseUrl' | 'dataDir' | 'poolSize' | 'preparedStatements' | 'schema' | 'autoMigrate' | 'readyTimeoutMs'>;

export function createDatabase(config: DatabaseSettings): Database {
  let opened: Promise<Db> | undefined;
  let migrated: Promise<unknown> | undefined;
  const open = (): Promise<Db> => {
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
  // The bundled migrations are loaded with the first migration or readiness check.
  const migrate = async (): Promise<MigrateResult> => {
    const [db, { migrate: apply }] = await Promise.all([open(), import('../db/migrate.js')]);
    return apply(db, { schema: config.schema });
  };

  return {
    open,
    async ready() {
      const db = await open();
      if (config.autoMigrate) {
        migrated ??= migrate().catch((error: unknown) => {
          migrated = undefined; // retry on the next request (the database may have been down)
          throw error;
        });
        await migrated;
      }
      return db;
    },
    migrate,
    async readiness() {
      const check = async (): Promise<Readiness> => {
        const db = await open();
        await db.query('select 1');
        const { pendingMigrations } = await import('../db/migrate.js');
        const pending = await pendingMigrations(db, { schema: config.schema });
        return { ok: pending.length === 0, database: 'ok', pendingMigrations: pending };
      };
      try {
        // Past the timeout the check goes on unheard (beforeDeadline's race handles its rejection).
        const answer = await beforeDeadline(check(), performance.now() + config.readyTimeoutMs);
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
    async close() {
      if (!opened || config.db) return;
      // A database that never opened has nothing to close; its error was already the caller's.
      const db = await opened.catch(() => undefined);
      await db?.close();
    },
  };
}
