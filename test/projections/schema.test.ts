/**
 * The projections agree with the migrated schema (columns written once, in the Drizzle tables),
 * and work under a schema name other than `clerk` (the migrator rewrites it; runtime SQL quotes it).
 */
import { getTableConfig } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessFor, can, forOrganization } from '../../src/access/index.js';
import * as schema from '../../src/db/schema/index.js';
import { migrate } from '../../src/db/migrate.js';
import { Hooks, PROJECTIONS } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { deliver, envelope, fixture, row, stored } from './support.js';

const T = 1_750_000_000_000;

for (const backend of backends) {
  describe(`projection schema (${backend.name})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => database.drop());

    it('every column a projection writes exists in the migrated table, and every table column is written', async () => {
      for (const projection of PROJECTIONS) {
        const result = await database.db.query<{ column_name: string }>(
          `select column_name from information_schema.columns where table_schema = 'clerk' and table_name = $1`,
          [projection.table],
        );
        const migrated = result.rows.map((r) => r.column_name).sort();
        expect(migrated, projection.table).toEqual([...projection.columnNames].sort());
      }
    });

    it('the Drizzle schema exports every projection table', () => {
      const tables = Object.values(schema)
        .filter((v) => typeof v === 'object' && v !== null && Symbol.for('drizzle:IsDrizzleTable') in v)
        .map((t) => getTableConfig(t as Parameters<typeof getTableConfig>[0]).name);
      for (const projection of PROJECTIONS) expect(tables).toContain(projection.table);
    });

    it('the views and can() exist', async () => {
      const views = await database.db.query<{ table_name: string }>(`select table_name from information_schema.views where table_schema = 'clerk' order by 1`);
      expect(views.rows.map((r) => r.table_name)).toEqual(['active_organization_memberships', 'user_last_seen', 'user_metadata_permissions', 'user_permissions']);
      expect((await database.db.query<{ ok: boolean }>(`select clerk.can('u', 'o', 'p') as ok`)).rows[0]!.ok).toBe(false);
    });

    it('works under another schema name', async () => {
      await migrate(database.db, { schema: 'tenant_x' });
      const ctx = { schema: 'tenant_x', deleteMode: 'scrub' as const, hooks: new Hooks() };
      const membership = { ...fixture('organizationMembership.created').data, id: 'mem_x', organization: { id: 'org_x' }, public_user_data: { user_id: 'user_x' }, permissions: ['org:x:read'] };
      await deliver(database.db, stored(envelope('organizationMembership.created', membership, T)), ctx);
      await deliver(database.db, stored(envelope('user.created', { ...fixture('user.created').data, id: 'user_x' }, T)), ctx);
      await deliver(database.db, stored(envelope('user.deleted', { id: 'user_x', object: 'user', deleted: true }, T + 1)), ctx);
      expect(await row(database.db, 'organization_memberships', 'mem_x', 'tenant_x')).toMatchObject({ user_id: 'user_x' });
      expect(await row(database.db, 'users', 'user_x', 'tenant_x')).toMatchObject({ first_name: null, _scrubbed: true });
      expect(await row(database.db, 'users', 'user_x')).toBeUndefined();
      await deliver(database.db, stored(envelope('organizationMembership.created', { ...membership, id: 'mem_y', public_user_data: { user_id: 'user_y' } }, T)), ctx);
      expect(await can(database.db, { schema: 'tenant_x' }, 'user_y', 'org_x', 'org:x:read')).toBe(true);
      expect(await can(database.db, { schema: 'clerk' }, 'user_y', 'org_x', 'org:x:read')).toBe(false);
      expect((await accessFor(database.db, { schema: 'tenant_x' }, 'user_y')).map((a) => a.organizationId)).toEqual(['org_x']);
      expect((await forOrganization(database.db, 'org_x', { schema: 'tenant_x' }).memberships()).map((m) => m.membershipId)).toEqual(['mem_y']);
    });
  });
}
