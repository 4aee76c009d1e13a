/**
 * An app table behind the organization policies, and a connection as the app's role: a role that
 * owns nothing and has no BYPASSRLS (on Postgres a login role unique to the test database, dropped
 * with it; on PGlite, whose one connection is a superuser, `set role` around the app's queries).
 */
import type { Db } from '../../src/core/db.js';
import { createPgDb } from '../../src/db/pg.js';
import { organizationPolicySql } from '../../src/access/rls.js';
import type { TestDatabase } from '../support/databases.js';
import { postgresUrl } from '../support/databases.js';
import { queryOnce } from '../support/postgres-admin.js';

export const READ = 'org:notes:read';
export const WRITE = 'org:notes:write';

export interface AppRole {
  name: string;
  /** Runs fn with the app role's connection. */
  as<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

/** Creates `notes` (organization-scoped, owned by the admin connection) with the policies, and the app role. */
export async function setUpApp(database: TestDatabase, options: { read?: string } = {}): Promise<AppRole> {
  const db = database.db;
  const dbName = database.url ? new URL(database.url).pathname.slice(1) : 'pglite';
  const name = `${dbName}_app`;
  await db.query(`do $$ begin if not exists (select 1 from pg_roles where rolname = '${name}') then create role ${name} login nosuperuser nobypassrls; end if; end $$`);
  await db.query('create table if not exists notes (id text primary key, organization_id text not null, body text not null)');
  await db.query('create index if not exists notes_organization_id_idx on notes (organization_id)');
  for (const statement of organizationPolicySql({ table: 'notes', column: 'organization_id', write: WRITE, ...(options.read ? { read: options.read } : {}) })) {
    await db.query(statement);
  }
  await db.query(`grant usage on schema clerk to ${name}`);
  await db.query(`grant select, insert, update, delete on notes to ${name}`);
  if (database.url) {
    const u = new URL(database.url);
    u.username = name;
    const appDb = createPgDb({ connectionString: u.toString(), max: 2 });
    return {
      name,
      as: (fn) => fn(appDb),
      async drop() {
        await appDb.close();
      },
    };
  }
  return {
    name,
    async as(fn) {
      await db.query(`set role ${name}`);
      try {
        return await fn(db);
      } finally {
        await db.query('reset role');
      }
    },
    async drop() {},
  };
}

/** Drops the Postgres role after its database (whose grants are its only dependencies) is gone. */
export async function dropRole(role: AppRole | undefined): Promise<void> {
  if (!role) return;
  await role.drop();
  if (postgresUrl && role.name !== 'pglite_app') await queryOnce(postgresUrl, `drop role if exists ${role.name}`);
}
