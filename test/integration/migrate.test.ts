/** The migrator: empty → latest, re-run is a no-op, concurrent runs, another schema, newer database. */
import { describe, expect, it } from 'vitest';
import { migrate, pendingMigrations } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/generated/migrations.js';
import { createPgDb } from '../../src/db/pg.js';
import { backends } from '../support/databases.js';

for (const backend of backends) {
  describe(`migrate (${backend.name})`, () => {
    it('migrates an empty database to the latest version, then does nothing', async () => {
      const t = await backend.create({ migrated: false });
      try {
        expect(await pendingMigrations(t.db)).toEqual(migrations.map((m) => m.name));
        const first = await migrate(t.db);
        expect(first.applied).toEqual(migrations.map((m) => m.name));
        expect(await pendingMigrations(t.db)).toEqual([]);
        const again = await migrate(t.db);
        expect(again.applied).toEqual([]);
        const rows = await t.db.query<{ n: number }>('select count(*)::int as n from clerk.schema_migrations');
        expect(rows.rows[0]!.n).toBe(migrations.length);
      } finally {
        await t.drop();
      }
    });

    it('applies into a configured schema name', async () => {
      const t = await backend.create({ migrated: false });
      try {
        await migrate(t.db, { schema: 'auth_mirror' });
        const r = await t.db.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema = 'auth_mirror' and table_name = 'webhook_events'`);
        expect(r.rows[0]!.n).toBe(1);
        const clerk = await t.db.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema = 'clerk'`);
        expect(clerk.rows[0]!.n).toBe(0);
      } finally {
        await t.drop();
      }
    });

    it('refuses a database that has migrations this code does not know', async () => {
      const t = await backend.create();
      try {
        await t.db.query(`insert into clerk.schema_migrations (id, name, checksum) values (9999, '9999_future', 'x')`);
        await expect(migrate(t.db)).rejects.toMatchObject({ code: 'database_newer_than_code' });
      } finally {
        await t.drop();
      }
    });

    it('refuses, naming the file, when an applied migration differs from the one shipped', async () => {
      const t = await backend.create();
      try {
        await t.db.query(`update clerk.schema_migrations set checksum = 'edited0000000000' where id = 2`);
        const error = await migrate(t.db).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'migration_checksum_mismatch' });
        expect((error as Error).message).toContain('src/db/migrations/0001_projections.sql');
        expect((error as Error).message).toContain('edited0000000000 applied');
        const still = await t.db.query<{ checksum: string }>('select checksum from clerk.schema_migrations where id = 2');
        expect(still.rows[0]!.checksum).toBe('edited0000000000');
      } finally {
        await t.drop();
      }
    });

    it('rolls back a failing migration entirely', async () => {
      const t = await backend.create({ migrated: false });
      try {
        const broken = [...migrations, { id: migrations.length + 1, name: 'broken', checksum: 'x', statements: ['create table "clerk".ok_table (id int)', 'select * from no_such_table'] }];
        await expect(migrate(t.db, { migrations: broken })).rejects.toMatchObject({ code: 'migration_failed' });
        const r = await t.db.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema = 'clerk'`);
        expect(r.rows[0]!.n).toBe(0);
      } finally {
        await t.drop();
      }
    });

    if (backend.name === 'postgres') {
      it('applies each migration once when several instances start at the same instant', async () => {
        const t = await backend.create({ migrated: false });
        const pools = Array.from({ length: 4 }, () => createPgDb({ connectionString: t.url!, max: 1 }));
        try {
          const results = await Promise.all(pools.map((db) => migrate(db)));
          const applied = results.flatMap((r) => r.applied);
          expect(applied.sort()).toEqual(migrations.map((m) => m.name).sort());
        } finally {
          await Promise.all(pools.map((p) => p.close()));
          await t.drop();
        }
      });
    }
  });
}
