/**
 * Drizzle over the app's own pool, for typed queries on the tables clerk-sync fills. The table
 * and view definitions come from `clerk-sync/schema`; clerk-sync's migrations create them, so the
 * app runs no migrations of its own.
 */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { clerkSync } from './clerk-sync';

const shared = globalThis as typeof globalThis & { __appDb?: NodePgDatabase };

export async function db(): Promise<NodePgDatabase> {
  // On a fresh database the clerk schema appears with the first webhook; opening clerk-sync's
  // database applies its migrations (once per process, under an advisory lock) so a page
  // visited before any webhook finds empty tables instead of failing.
  await clerkSync().db();
  if (!shared.__appDb) {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error('DATABASE_URL is not set: the pages read the clerk.* tables from Postgres');
    shared.__appDb = drizzle({ client: new pg.Pool({ connectionString, max: 5 }) });
  }
  return shared.__appDb;
}
