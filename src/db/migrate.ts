/**
 * The migrator: applies the bundled, numbered migrations in one transaction under a
 * transaction-level advisory lock, so several instances starting at once apply each migration
 * exactly once (the others wait on the lock, then find nothing to do). A failure is fatal and
 * rolls everything back.
 */
import type { Db, Queryable } from '../core/db.js';
import { ClerkSyncError } from '../core/errors.js';
import { migrations as bundled, type Migration } from './generated/migrations.js';
import { forSchema, quoteIdentifier } from './identifiers.js';

export interface MigrateResult {
  applied: string[];
  current: number;
}

function lockKey(schema: string): string {
  return `clerk-sync:migrate:${schema}`;
}

async function appliedIds(q: Queryable, schema: string): Promise<Map<number, string>> {
  const exists = await q.query<{ ok: boolean }>(
    `select to_regclass($1) is not null as ok`,
    [`${quoteIdentifier(schema)}.schema_migrations`],
  );
  if (!exists.rows[0]?.ok) return new Map();
  const rows = await q.query<{ id: number; checksum: string }>(`select id, checksum from ${quoteIdentifier(schema)}.schema_migrations`);
  return new Map(rows.rows.map((r) => [Number(r.id), r.checksum]));
}

export async function migrate(db: Db, options: { schema?: string; migrations?: Migration[] } = {}): Promise<MigrateResult> {
  const schema = options.schema ?? 'clerk';
  const list = options.migrations ?? bundled;
  const q = quoteIdentifier(schema);
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext($1))`, [lockKey(schema)]);
    await tx.query(`create schema if not exists ${q}`);
    await tx.query(
      `create table if not exists ${q}.schema_migrations (id integer primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`,
    );
    const done = await appliedIds(tx, schema);
    const known = new Set(list.map((m) => m.id));
    const unknown = [...done.keys()].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new ClerkSyncError(
        'database_newer_than_code',
        `The database has migration(s) ${unknown.join(', ')} that this version of clerk-sync does not know: upgrade clerk-sync`,
      );
    }
    // An applied migration edited since (a hand-edited file, a fork's migration under a number this
    // version also uses) means the database is not what this code expects: stop before guessing.
    const changed = list.filter((m) => done.has(m.id) && done.get(m.id) !== m.checksum);
    if (changed.length > 0) {
      throw new ClerkSyncError(
        'migration_checksum_mismatch',
        `Applied migration(s) ${changed.map((m) => `src/db/migrations/${m.name}.sql`).join(', ')} differ from what this version of clerk-sync ships (checksum ${changed.map((m) => `${done.get(m.id)} applied, ${m.checksum} shipped`).join('; ')}): a migration file was edited after it ran. Restore the file, or ask for help before changing ${q}.schema_migrations`,
      );
    }
    const applied: string[] = [];
    for (const migration of list) {
      if (done.has(migration.id)) continue;
      for (const statement of migration.statements) {
        try {
          await tx.query(forSchema(statement, schema));
        } catch (error) {
          throw new ClerkSyncError('migration_failed', `Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
        }
      }
      await tx.query(`insert into ${q}.schema_migrations (id, name, checksum) values ($1, $2, $3)`, [migration.id, migration.name, migration.checksum]);
      applied.push(migration.name);
    }
    return { applied, current: list.at(-1)?.id ?? 0 };
  });
}

/** For readiness: are all bundled migrations applied? */
export async function pendingMigrations(db: Queryable, options: { schema?: string } = {}): Promise<string[]> {
  const done = await appliedIds(db, options.schema ?? 'clerk');
  return bundled.filter((m) => !done.has(m.id)).map((m) => m.name);
}
