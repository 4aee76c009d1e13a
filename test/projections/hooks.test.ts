/**
 * Hooks run inside the apply transaction: a failure rolls back the projection and the inbox mark
 * together. And the seeds' recipe (docs/projections.md "Hooks"): the app's own `team_members` and
 * `workspaces` tables kept in step by hooks that re-read the projection, so they converge for any
 * delivery order, like the projections themselves.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/core/db.js';
import { applyEvent, Hooks, markEvent, type ApplyContext, type HookContext, type StoredEvent } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { deliver, envelope, fixture, insertInbox, row, stored, truncateAll } from './support.js';

const T = 1_750_000_000_000;

// ---- the recipe, as an app would write it ----------------------------------------------------

/** team_members mirrors the live memberships; the hook reads the projection rather than trusting the event. */
async function syncTeamMember(event: StoredEvent, tx: Queryable, { schema }: HookContext): Promise<void> {
  const membership = await tx.query<{ organization_id: string; user_id: string }>(
    `select organization_id, user_id from "${schema}".organization_memberships where id = $1`,
    [event.payload.data.id],
  );
  const m = membership.rows[0];
  if (!m?.organization_id || !m.user_id) return;
  const active = await tx.query<{ role: string }>(`select role from "${schema}".active_organization_memberships where id = $1`, [event.payload.data.id]);
  if (active.rows[0]) {
    await tx.query(
      `insert into app.team_members (org_id, user_id, role) values ($1, $2, $3)
       on conflict (org_id, user_id) do update set role = excluded.role`,
      [m.organization_id, m.user_id, active.rows[0].role],
    );
  } else {
    await tx.query('delete from app.team_members where org_id = $1 and user_id = $2', [m.organization_id, m.user_id]);
  }
}

/** workspaces: one per live organization, named after it. */
async function syncWorkspace(event: StoredEvent, tx: Queryable, { schema }: HookContext): Promise<void> {
  const org = await tx.query<{ name: string | null; deleted_at: Date | null }>(`select name, deleted_at from "${schema}".organizations where id = $1`, [event.payload.data.id]);
  const o = org.rows[0];
  if (!o || o.deleted_at) await tx.query('delete from app.workspaces where org_id = $1', [event.payload.data.id]);
  else await tx.query('insert into app.workspaces (org_id, name) values ($1, $2) on conflict (org_id) do update set name = excluded.name', [event.payload.data.id, o.name]);
}

function recipeHooks(): Hooks {
  const hooks = new Hooks();
  for (const type of ['organizationMembership.created', 'organizationMembership.updated', 'organizationMembership.deleted']) hooks.on(type, syncTeamMember);
  for (const type of ['organization.created', 'organization.updated', 'organization.deleted']) hooks.on(type, syncWorkspace);
  return hooks;
}

// -----------------------------------------------------------------------------------------------

const membership = (id: string, userId: string, updatedAt: number, role = 'org:member') => ({
  ...fixture('organizationMembership.created').data,
  id,
  role,
  organization: { id: 'org_1', object: 'organization' },
  public_user_data: { user_id: userId },
  updated_at: updatedAt,
});
const organization = (updatedAt: number, name: string) => ({ ...fixture('organization.created').data, id: 'org_1', name, updated_at: updatedAt });

for (const backend of backends) {
  describe(`hooks (${backend.name})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
      await database.db.query('create schema app');
      await database.db.query('create table app.team_members (org_id text not null, user_id text not null, role text not null, primary key (org_id, user_id))');
      await database.db.query('create table app.workspaces (org_id text primary key, name text)');
    });
    afterAll(async () => database.drop());
    beforeEach(async () => {
      await truncateAll(database.db);
      await database.db.query('truncate app.team_members, app.workspaces');
    });
    const db = () => database.db;

    it('a hook that throws rolls back both the projection and the inbox mark', async () => {
      const event = stored(fixture('user.created'));
      await insertInbox(db(), event);
      const hooks = new Hooks().on('user.created', async (_e, tx) => {
        await tx.query(`insert into app.workspaces (org_id, name) values ('org_hook', 'written by the hook')`);
        throw new Error('boom');
      });
      const ctx: ApplyContext = { schema: 'clerk', deleteMode: 'soft', hooks };
      await expect(
        db().transaction(async (tx) => {
          const status = await applyEvent(tx, event, ctx);
          await markEvent(tx, 'clerk', event.id, status);
        }),
      ).rejects.toThrow('boom');
      expect(await row(db(), 'users', event.payload.data.id as string)).toBeUndefined();
      expect((await db().query<{ status: string; applied_at: Date | null }>('select status, applied_at from clerk.webhook_events where id = $1', [event.id])).rows[0]).toEqual({ status: 'pending', applied_at: null });
      expect((await db().query('select * from app.workspaces')).rows).toEqual([]);

      // the retry, with the hook fixed, applies and marks together
      expect(await deliver(db(), event, { schema: 'clerk', deleteMode: 'soft', hooks: new Hooks() })).toBe('applied');
      expect((await db().query<{ status: string }>('select status from clerk.webhook_events where id = $1', [event.id])).rows[0]!.status).toBe('applied');
    });

    it('runs type hooks and * hooks in registration order, with the apply status, for stale and ignored events too', async () => {
      const seen: string[] = [];
      const hooks = new Hooks()
        .on('*', (e, _tx, c) => void seen.push(`*:${e.type}:${c.status}`))
        .on('user.updated', (e, _tx, c) => void seen.push(`${e.type}:${c.status}`));
      const ctx: ApplyContext = { schema: 'clerk', deleteMode: 'soft', hooks };
      const data = { id: 'user_1', object: 'user', updated_at: T };
      await deliver(db(), stored(envelope('user.updated', data, T)), ctx);
      await deliver(db(), stored(envelope('user.updated', { ...data, updated_at: T - 1 }, T)), ctx);
      await deliver(db(), stored(envelope('widget.created', { id: 'w_1' }, T)), ctx);
      expect(seen).toEqual(['*:user.updated:applied', 'user.updated:applied', '*:user.updated:stale', 'user.updated:stale', '*:widget.created:ignored']);
    });

    describe('recipe: team_members and workspaces kept in step', () => {
      const ctx = (): ApplyContext => ({ schema: 'clerk', deleteMode: 'soft', hooks: recipeHooks() });
      const history = () => [
        stored(envelope('organization.created', organization(T, 'Acme'), T), { id: 'msg_01' }),
        stored(envelope('organization.updated', organization(T + 5, 'Acme Inc'), T + 5), { id: 'msg_02' }),
        stored(envelope('organizationMembership.created', membership('orgmem_a', 'user_a', T), T), { id: 'msg_03' }),
        stored(envelope('organizationMembership.updated', membership('orgmem_a', 'user_a', T + 10, 'org:admin'), T + 10), { id: 'msg_04' }),
        stored(envelope('organizationMembership.created', membership('orgmem_b', 'user_b', T), T), { id: 'msg_05' }),
        stored(envelope('organizationMembership.deleted', membership('orgmem_b', 'user_b', T), T + 20), { id: 'msg_06' }),
        stored(envelope('organizationMembership.created', membership('orgmem_c', 'user_c', T + 1), T + 1), { id: 'msg_07' }),
      ];
      const state = async () => ({
        team: (await db().query('select org_id, user_id, role from app.team_members order by user_id')).rows,
        workspaces: (await db().query('select org_id, name from app.workspaces')).rows,
      });
      const expected = {
        team: [
          { org_id: 'org_1', user_id: 'user_a', role: 'org:admin' },
          { org_id: 'org_1', user_id: 'user_c', role: 'org:member' },
        ],
        workspaces: [{ org_id: 'org_1', name: 'Acme Inc' }],
      };

      it('in order', async () => {
        for (const event of history()) await deliver(db(), event, ctx());
        expect(await state()).toEqual(expected);
      });

      it('reversed, and with duplicates', async () => {
        const events = history().reverse();
        for (const event of [...events, ...events.slice(0, 3)]) await deliver(db(), event, ctx());
        expect(await state()).toEqual(expected);
      });

      it('a deleted organization removes its workspace, and its members leave team_members on their next event', async () => {
        for (const event of history()) await deliver(db(), event, ctx());
        await deliver(db(), stored(envelope('organization.deleted', { id: 'org_1', object: 'organization', deleted: true }, T + 30)), ctx());
        expect((await state()).workspaces).toEqual([]);
        // membership rows still exist, but are no longer active (the org is tombstoned)
        await deliver(db(), stored(envelope('organizationMembership.updated', membership('orgmem_a', 'user_a', T + 40, 'org:admin'), T + 40)), ctx());
        expect((await state()).team.map((m) => m.user_id)).toEqual(['user_c']);
      });

      it('a failing hook leaves neither the projection nor team_members half-written', async () => {
        const hooks = recipeHooks().on('organizationMembership.created', () => {
          throw new Error('app table unavailable');
        });
        const event = history()[2]!;
        await insertInbox(db(), event);
        await expect(
          db().transaction(async (tx) => {
            const status = await applyEvent(tx, event, { schema: 'clerk', deleteMode: 'soft', hooks });
            await markEvent(tx, 'clerk', event.id, status);
          }),
        ).rejects.toThrow('app table unavailable');
        expect(await row(db(), 'organization_memberships', 'orgmem_a')).toBeUndefined();
        expect((await state()).team).toEqual([]);
      });
    });
  });
}
