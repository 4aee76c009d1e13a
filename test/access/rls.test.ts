/**
 * Row-level security on real Postgres (as a non-owner login role, RLS enabled and forced) and
 * PGlite (set role): current_user_id(), is_member(), has_permission(), the policies from
 * organizationPolicySql(), withClerkUser() over each kind of connection, assertRowLevelSecurity(),
 * and the bad inputs (malformed settings, injection, bad ids and names).
 */
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzleLite } from 'drizzle-orm/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRowLevelSecurity, organizationPolicies, organizationPolicySql, withClerkUser } from '../../src/access/rls.js';
import type { Db, Queryable } from '../../src/core/db.js';
import { ClerkSyncError } from '../../src/core/errors.js';
import { migrate } from '../../src/db/migrate.js';
import { wrapPGlite } from '../../src/db/pglite.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { deliver, envelope, stored, truncateAll } from '../projections/support.js';
import { dropRole, setUpApp, WRITE, type AppRole } from './support.js';

const T = 1_750_000_000_000;
const membership = (id: string, org: string, user: string, role: string, permissions: string[]) =>
  envelope('organizationMembership.created', { id, object: 'organization_membership', role, permissions, organization: { id: org }, public_user_data: { user_id: user }, updated_at: T }, T);

const notesOf = async (q: Queryable) => (await q.query<{ id: string }>('select id from notes order by id')).rows.map((r) => r.id);

for (const backend of backends) {
  describe(`row-level security (${backend.name})`, () => {
    let database: TestDatabase;
    let app: AppRole;
    const db = () => database.db;
    const as = <T>(fn: (q: Db) => Promise<T>) => app.as(fn);

    beforeAll(async () => {
      database = await backend.create();
      await truncateAll(db());
      app = await setUpApp(database);
      for (const e of [
        membership('mem_a1', 'org_a', 'user_a', 'org:writer', ['org:notes:read', WRITE]),
        membership('mem_b1', 'org_b', 'user_b', 'org:reader', ['org:notes:read']),
        membership('mem_ab', 'org_b', 'user_a', 'org:reader', ['org:notes:read']),
        membership('mem_gone', 'org_a', 'user_gone', 'org:writer', [WRITE]),
        envelope('organizationMembership.deleted', { id: 'mem_gone', object: 'organization_membership', role: 'org:writer', permissions: [WRITE], organization: { id: 'org_a' }, public_user_data: { user_id: 'user_gone' }, updated_at: T + 1 }, T + 1),
      ]) await deliver(db(), stored(e));
      await db().query(`insert into notes values ('a1', 'org_a', 'alpha'), ('a2', 'org_a', 'alpha 2'), ('b1', 'org_b', 'beta'), ('c1', 'org_c', 'gamma')`);
    });
    afterAll(async () => {
      await database.drop();
      await dropRole(app);
    });

    it('the app role passes assertRowLevelSecurity; the admin connection (superuser, owner) is refused', async () => {
      await as((q) => assertRowLevelSecurity(q, ['notes']));
      await expect(assertRowLevelSecurity(db(), ['notes'])).rejects.toMatchObject({ code: 'rls_not_enforced' });
      await expect(as((q) => assertRowLevelSecurity(q, ['clerk.users']))).rejects.toBeInstanceOf(ClerkSyncError);
      await expect(as((q) => assertRowLevelSecurity(q, ['no_such_table']))).rejects.toMatchObject({ code: 'rls_not_enforced' });
      for (const bad of ['a b', 'x.y.z', 'Notes', "notes'; drop table notes; --", '']) {
        await expect(as((q) => assertRowLevelSecurity(q, [bad])), bad).rejects.toThrow(TypeError);
      }
    });

    it('with no user set, nothing is visible and nothing can be written', async () => {
      expect(await as(notesOf)).toEqual([]);
      await expect(as((q) => q.query(`insert into notes values ('x', 'org_a', 'x')`))).rejects.toThrow(/row-level security/);
      expect(await as((q) => q.query('update notes set body = $1', ['x']))).toMatchObject({ rowCount: 0 });
      expect(await as((q) => q.query('delete from notes'))).toMatchObject({ rowCount: 0 });
    });

    it('withClerkUser: each user sees exactly the rows of their organizations', async () => {
      expect(await as((q) => withClerkUser(q, 'user_a', notesOf))).toEqual(['a1', 'a2', 'b1']);
      expect(await as((q) => withClerkUser(q, 'user_b', notesOf))).toEqual(['b1']);
      expect(await as((q) => withClerkUser(q, 'user_gone', notesOf))).toEqual([]);
      expect(await as((q) => withClerkUser(q, 'user_nobody', notesOf))).toEqual([]);
      // transaction-local: gone after the transaction
      expect(await as(notesOf)).toEqual([]);
    });

    it('writes need the write permission in the row organization, before and after the change', async () => {
      await as((q) => withClerkUser(q, 'user_a', (tx) => tx.query(`insert into notes values ('a3', 'org_a', 'new')`)));
      await expect(as((q) => withClerkUser(q, 'user_a', (tx) => tx.query(`insert into notes values ('b2', 'org_b', 'x')`)))).rejects.toThrow(/row-level security/);
      await expect(as((q) => withClerkUser(q, 'user_a', (tx) => tx.query(`update notes set organization_id = 'org_b' where id = 'a3'`)))).rejects.toThrow(/row-level security/);
      expect(await as((q) => withClerkUser(q, 'user_a', (tx) => tx.query(`update notes set body = 'changed' where organization_id in ('org_b', 'org_c')`)))).toMatchObject({ rowCount: 0 });
      expect(await as((q) => withClerkUser(q, 'user_b', (tx) => tx.query(`delete from notes where id = 'b1'`)))).toMatchObject({ rowCount: 0 });
      expect(await as((q) => withClerkUser(q, 'user_a', (tx) => tx.query(`delete from notes where id = 'a3'`)))).toMatchObject({ rowCount: 1 });
    });

    it('current_user_id, is_member and has_permission; request.jwt.claims as a fallback', async () => {
      const probe = (q: Queryable) =>
        q.query<{ u: string | null; m: boolean; p: boolean }>(`select clerk.current_user_id() as u, clerk.is_member('org_a') as m, clerk.has_permission('org_a', $1) as p`, [WRITE]).then((r) => r.rows[0]);
      expect(await as((q) => withClerkUser(q, 'user_a', probe))).toEqual({ u: 'user_a', m: true, p: true });
      expect(await as((q) => withClerkUser(q, 'user_b', probe))).toEqual({ u: 'user_b', m: false, p: false });
      const claims = (value: string) =>
        as((q) => q.transaction(async (tx) => {
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [value]);
          return [await probe(tx), await notesOf(tx)] as const;
        }));
      expect(await claims(JSON.stringify({ sub: 'user_a', role: 'authenticated' }))).toEqual([{ u: 'user_a', m: true, p: true }, ['a1', 'a2', 'b1']]);
      // malformed or hostile values read as no user, without an error
      for (const bad of ['{not json', '[]', '"user_a"', '{"sub": 42}', '{"sub": ""}', `{"sub": "user_a' or '1'='1"}`, '{"sub": "user_a; drop table notes"}', 'null']) {
        expect(await claims(bad), bad).toEqual([{ u: null, m: false, p: false }, []]);
      }
      for (const bad of ["user_a' or '1'='1", 'user_a,user_b', ' user_a', 'x'.repeat(129), "'; drop table notes; --"]) {
        const seen = await as((q) => q.transaction(async (tx) => {
          await tx.query(`select set_config('clerk.user_id', $1, true)`, [bad]);
          return [await probe(tx), await notesOf(tx)] as const;
        }));
        expect(seen, bad).toEqual([{ u: null, m: false, p: false }, []]);
      }
      expect(await notesOf(db())).toContain('a1');
    });

    it('revocation applies on the next statement: a deleted membership, organization or user, an inactive user', async () => {
      await deliver(db(), stored(membership('mem_r', 'org_r', 'user_r', 'org:writer', [WRITE])));
      await db().query(`insert into notes values ('r1', 'org_r', 'r') on conflict do nothing`);
      const seen = () => as((q) => withClerkUser(q, 'user_r', notesOf));
      expect(await seen()).toEqual(['r1']);
      await deliver(db(), stored(envelope('user.created', { id: 'user_r', object: 'user', public_metadata: { isActive: false }, updated_at: T }, T)));
      expect(await seen()).toEqual([]);
      await deliver(db(), stored(envelope('user.updated', { id: 'user_r', object: 'user', public_metadata: {}, updated_at: T + 1 }, T + 1)));
      expect(await seen()).toEqual(['r1']);
      await deliver(db(), stored(envelope('organization.deleted', { id: 'org_r', object: 'organization', deleted: true }, T + 2)));
      expect(await seen()).toEqual([]);
    });

    it('withClerkUser refuses a bad user id before touching the database', async () => {
      for (const bad of ['', ' ', "user'; drop", 'x'.repeat(129), undefined, 42, null]) {
        await expect(withClerkUser(db(), bad as string, async () => 'ran')).rejects.toThrow(TypeError);
      }
      await expect(withClerkUser({} as Db, 'user_a', async () => 'ran')).rejects.toThrow(TypeError);
    });

    it('a failing fn rolls back its writes', async () => {
      await expect(as((q) => withClerkUser(q, 'user_a', async (tx) => {
        await tx.query(`insert into notes values ('a9', 'org_a', 'x')`);
        throw new Error('boom');
      }))).rejects.toThrow('boom');
      expect(await notesOf(db())).not.toContain('a9');
    });

    if (backend.name === 'postgres') {
      it('withClerkUser over a pg.Pool, a pg.Client and Drizzle (node-postgres)', async () => {
        const u = new URL(database.url!);
        u.username = app.name;
        const pool = new pg.Pool({ connectionString: u.toString(), max: 1 });
        try {
          expect(await withClerkUser(pool, 'user_b', async (c) => notesOf(c as unknown as Queryable))).toEqual(['b1']);
          // the same pooled connection afterwards: the setting did not survive the transaction
          expect((await pool.query('select clerk.current_user_id() as u')).rows[0].u).toBeNull();
          const client = await pool.connect();
          try {
            expect(await withClerkUser(client, 'user_a', async (c) => notesOf(c as unknown as Queryable))).toEqual(['a1', 'a2', 'b1']);
          } finally {
            client.release();
          }
          const d = drizzlePg(pool);
          const rows = await withClerkUser(d, 'user_b', (tx) => tx.execute<{ id: string }>(sql`select id from notes order by id`));
          expect(rows.rows.map((r) => r.id)).toEqual(['b1']);
        } finally {
          await pool.end();
        }
      });
    } else {
      it('withClerkUser over a PGlite instance and Drizzle (pglite)', async () => {
        const lite = new PGlite();
        const wrapped = wrapPGlite(lite);
        await migrate(wrapped);
        await deliver(wrapped, stored(membership('mem_l', 'org_l', 'user_l', 'org:writer', [WRITE])));
        await lite.exec(`create role lite_app; create table notes (id text primary key, organization_id text not null);
          insert into notes values ('l1', 'org_l'), ('m1', 'org_m'); grant usage on schema clerk to lite_app; grant select on notes to lite_app`);
        for (const s of organizationPolicySql({ table: 'notes', column: 'organization_id', write: WRITE })) await lite.exec(s);
        await lite.exec('set role lite_app');
        expect(await withClerkUser(lite, 'user_l', async (tx) => (await tx.query<{ id: string }>('select id from notes')).rows.map((r) => r.id))).toEqual(['l1']);
        const d = drizzleLite(lite);
        const rows = await withClerkUser(d, 'user_l', (tx) => tx.execute<{ id: string }>(sql`select id from notes`));
        expect(rows.rows.map((r) => r.id)).toEqual(['l1']);
        expect((await lite.query<{ id: string }>('select id from notes')).rows).toEqual([]);
        await lite.close();
      });
    }
  });
}

describe('policy declarations', () => {
  it('organizationPolicies gives Drizzle four policies with the init-plan lookups', () => {
    const policies = organizationPolicies({ column: { name: 'organization_id' }, read: 'org:notes:read', write: WRITE });
    expect(policies.map((p) => [p.name, p.for])).toEqual([['clerk_org_select', 'select'], ['clerk_org_insert', 'insert'], ['clerk_org_update', 'update'], ['clerk_org_delete', 'delete']]);
  });

  it('the SQL recipe enables and forces RLS and uses the member lookup without a read permission', () => {
    const statements = organizationPolicySql({ table: 'app.notes', column: 'org_id', write: WRITE, to: 'app_user' });
    expect(statements[0]).toBe('alter table "app"."notes" enable row level security');
    expect(statements[1]).toBe('alter table "app"."notes" force row level security');
    expect(statements[2]).toBe(`create policy "clerk_org_select" on "app"."notes" for select to "app_user" using ("org_id" = any((select "clerk".member_organizations())::text[]))`);
  });

  it('refuses bad names and permissions, which would be inlined into DDL', () => {
    const ok = { table: 'notes', column: 'organization_id', write: WRITE };
    for (const bad of [
      { ...ok, write: "x'); drop table notes; --" },
      { ...ok, write: '' },
      { ...ok, read: 'a b' },
      { ...ok, column: 'Org"Id' },
      { ...ok, table: 'notes; drop table x' },
      { ...ok, table: 'a.b.c' },
      { ...ok, name: 'Bad-Name' },
      { ...ok, to: 'role"x' },
      { ...ok, schema: 'Clerk' },
    ]) {
      expect(() => organizationPolicySql(bad), JSON.stringify(bad)).toThrow();
    }
  });
});
