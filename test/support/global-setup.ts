/**
 * Once per run: when TEST_DATABASE_URL is set, build a migrated template database that each
 * test file clones (graphile-worker's approach: cheap per-file isolation, migrations run once).
 */
import pg from 'pg';
import { createPgDb } from '../../src/db/pg.js';
import { migrate } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/generated/migrations.js';
import { withDatabase } from './postgres-admin.js';
import { createHash } from 'node:crypto';

export function templateName(): string {
  const hash = createHash('sha256').update(JSON.stringify(migrations)).digest('hex').slice(0, 12);
  return `clerk_sync_tpl_${hash}`;
}


export default async function setup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const name = templateName();
    await admin.query('select pg_advisory_lock(hashtext($1))', [name]);
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      await admin.query(`create database ${name}`);
      const db = createPgDb({ connectionString: withDatabase(url, name), max: 1 });
      try {
        await migrate(db);
      } catch (error) {
        await db.close();
        await admin.query(`drop database if exists ${name}`);
        throw error;
      }
      await db.close();
    }
    await admin.query('select pg_advisory_unlock(hashtext($1))', [name]);
  } finally {
    await admin.end();
  }
}
