/**
 * The databases every database test runs on: PGlite always, real Postgres as well when
 * TEST_DATABASE_URL is set (CI sets it). Each `create()` gives a fresh, migrated, isolated
 * database and `drop()` removes it.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/core/db.js';
import { migrate } from '../../src/db/migrate.js';
import { createPgDb } from '../../src/db/pg.js';
import { createPGliteDb } from '../../src/db/pglite.js';
import { templateName } from './global-setup.js';
import { queryOnce, withDatabase } from './postgres-admin.js';

export interface TestDatabase {
  db: Db;
  /** A connection string (Postgres only) for code under test that opens its own pool. */
  url?: string;
  drop(): Promise<void>;
}

export interface Backend {
  name: 'pglite' | 'postgres';
  create(options?: { migrated?: boolean }): Promise<TestDatabase>;
}

const pglite: Backend = {
  name: 'pglite',
  async create(options = {}) {
    const db = await createPGliteDb();
    if (options.migrated !== false) await migrate(db);
    return { db, drop: () => db.close() };
  },
};

const adminQuery = (url: string, sql: string) => queryOnce(url, sql);

function postgres(url: string): Backend {
  return {
    name: 'postgres',
    async create(options = {}) {
      const name = `clerk_sync_test_${randomBytes(6).toString('hex')}`;
      const template = options.migrated === false ? 'template0' : templateName();
      await adminQuery(url, `create database ${name} template ${template}`);
      const dbUrl = withDatabase(url, name);
      const db = createPgDb({ connectionString: dbUrl, max: 10 });
      return {
        db,
        url: dbUrl,
        async drop() {
          await db.close();
          await adminQuery(url, `drop database if exists ${name} with (force)`);
        },
      };
    },
  };
}

export const backends: Backend[] = process.env.TEST_DATABASE_URL ? [pglite, postgres(process.env.TEST_DATABASE_URL)] : [pglite];

export const postgresUrl: string | undefined = process.env.TEST_DATABASE_URL;
