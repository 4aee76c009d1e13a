/**
 * Drizzle over the app's own pool, for typed queries on the tables clerk-sync fills. The table
 * and view definitions come from `clerk-sync/schema`; clerk-sync's migrations create them (on the
 * first webhook, or with `npx clerk-sync migrate`), so the app runs no migrations of its own.
 */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';

const shared = globalThis as typeof globalThis & { __appDb?: NodePgDatabase };

export function db(): NodePgDatabase {
  if (!shared.__appDb) {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error('DATABASE_URL is not set: the pages read the clerk.* tables from Postgres');
    shared.__appDb = drizzle({ client: new pg.Pool({ connectionString, max: 5 }) });
  }
  return shared.__appDb;
}
