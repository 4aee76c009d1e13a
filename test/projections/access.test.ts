/**
 * The ABAC read side: active_organization_memberships, user_permissions, the SQL function can(),
 * and the TypeScript helpers can(), accessFor() and forOrganization() (tenant isolation).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessFor, can, forOrganization } from '../../src/access/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { deliver, envelope, fixture, stored, truncateAll } from './support.js';

const T = 1_750_000_000_000;
const OPTS = { schema: 'clerk' };

const user = (id: string, meta: Record<string, unknown> = {}, email = `${id}@example.com`) => ({
  ...fixture('user.created').data,
  id,
  first_name: id,
  primary_email_address_id: `idn_${id}`,
  email_addresses: [{ id: `idn_${id}`, object: 'email_address', email_address: email }],
  public_metadata: meta,
  updated_at: T,
});
const org = (id: string, name: string) => ({ ...fixture('organization.created').data, id, name, slug: name.toLowerCase(), updated_at: T });
const membership = (id: string, orgId: string, userId: string, role: string, permissions: string[]) => ({
  object: 'organization_membership', id, role, permissions, public_metadata: {}, organization: { id: orgId }, public_user_data: { user_id: userId }, created_at: T, updated_at: T,
});
const role = (id: string, key: string, permissions: string[]) => ({
  object: 'role', id, key, name: key, description: null, permissions: permissions.map((k) => ({ object: 'permission', key: k, id: `perm_${k}` })), created_at: T, updated_at: T,
});

for (const backend of backends) {
  describe(`ABAC views, can() and tenant scopes (${backend.name})`, () => {
    let database: TestDatabase;
    const db = () => database.db;

    beforeAll(async () => {
      database = await backend.create();
      await truncateAll(db());
      const events = [
        envelope('user.created', user('user_alice'), T),
        envelope('user.created', user('user_bob'), T),
        envelope('user.created', user('user_inactive', { isActive: false }), T),
        envelope('user.created', user('user_gone'), T),
        envelope('user.deleted', { id: 'user_gone', object: 'user', deleted: true }, T + 1),
        envelope('organization.created', org('org_a', 'Alpha'), T),
        envelope('organization.created', org('org_b', 'Beta'), T),
        envelope('organization.created', org('org_dead', 'Dead'), T),
        envelope('organization.deleted', { id: 'org_dead', object: 'organization', deleted: true }, T + 1),
        envelope('role.created', role('role_editor', 'org:editor', ['org:posts:edit', 'org:posts:publish']), T),
        envelope('role.created', role('role_old', 'org:old', ['org:legacy:use']), T),
        envelope('role.deleted', { id: 'role_old', object: 'role', deleted: true }, T + 1),
        envelope('organizationMembership.created', membership('mem_alice_a', 'org_a', 'user_alice', 'org:editor', ['org:posts:read']), T),
        envelope('organizationMembership.created', membership('mem_alice_b', 'org_b', 'user_alice', 'org:member', ['org:posts:read']), T),
        envelope('organizationMembership.created', membership('mem_bob_b', 'org_b', 'user_bob', 'org:old', ['org:billing:read']), T),
        envelope('organizationMembership.created', membership('mem_bob_a', 'org_a', 'user_bob', 'org:member', ['org:posts:read']), T),
        envelope('organizationMembership.deleted', membership('mem_bob_a', 'org_a', 'user_bob', 'org:member', ['org:posts:read']), T + 1),
        envelope('organizationMembership.created', membership('mem_inactive', 'org_a', 'user_inactive', 'org:editor', ['org:posts:read']), T),
        envelope('organizationMembership.created', membership('mem_gone', 'org_a', 'user_gone', 'org:editor', ['org:posts:read']), T),
        envelope('organizationMembership.created', membership('mem_dead', 'org_dead', 'user_alice', 'org:editor', []), T),
        // the sign-up race: a membership for a user and an org whose rows have not arrived yet
        envelope('organizationMembership.created', membership('mem_new', 'org_new', 'user_new', 'org:member', ['org:posts:read']), T),
        envelope('organizationInvitation.created', { ...fixture('organizationInvitation.created').data, id: 'inv_a', organization_id: 'org_a', email_address: 'x@a.com' }, T),
        envelope('organizationInvitation.created', { ...fixture('organizationInvitation.created').data, id: 'inv_b', organization_id: 'org_b', email_address: 'x@b.com' }, T),
        envelope('organizationInvitation.accepted', { ...fixture('organizationInvitation.accepted').data, id: 'inv_b2', organization_id: 'org_b', email_address: 'y@b.com' }, T),
        envelope('organizationDomain.created', { ...fixture('organizationDomain.created').data, id: 'dom_a', organization_id: 'org_a', name: 'alpha.com' }, T),
        envelope('organizationDomain.created', { ...fixture('organizationDomain.created').data, id: 'dom_b', organization_id: 'org_b', name: 'beta.com' }, T),
        envelope('organizationDomain.created', { ...fixture('organizationDomain.created').data, id: 'dom_b_old', organization_id: 'org_b', name: 'old-beta.com' }, T),
        envelope('organizationDomain.deleted', { id: 'dom_b_old', object: 'organization_domain', deleted: true }, T + 1),
      ];
      for (const e of events) await deliver(db(), stored(e));
    });
    afterAll(async () => database.drop());

    it('active_organization_memberships: live membership, user and organization; a not-yet-synced user or org counts as live', async () => {
      const active = await db().query<{ id: string }>('select id from clerk.active_organization_memberships order by id');
      expect(active.rows.map((r) => r.id)).toEqual(['mem_alice_a', 'mem_alice_b', 'mem_bob_b', 'mem_inactive', 'mem_new']);
    });

    it("user_permissions: the live role's permissions, none for a deleted role, the membership's own for an unknown role; active users only", async () => {
      const perms = await db().query<{ user_id: string; organization_id: string; permission: string }>(
        'select user_id, organization_id, permission from clerk.user_permissions order by 1, 2, 3',
      );
      expect(perms.rows.map((r) => `${r.user_id}/${r.organization_id}/${r.permission}`)).toEqual([
        // org:editor is synced: its permissions replace the membership's snapshot
        'user_alice/org_a/org:posts:edit',
        'user_alice/org_a/org:posts:publish',
        // org:member is unknown (a system role): the membership's own snapshot
        'user_alice/org_b/org:posts:read',
        // org:old was deleted: user_bob holds nothing in org_b
        'user_new/org_new/org:posts:read',
      ]);
    });

    it('the SQL function can()', async () => {
      const check = async (u: string, o: string, p: string) => (await db().query<{ ok: boolean }>('select clerk.can($1, $2, $3) as ok', [u, o, p])).rows[0]!.ok;
      expect(await check('user_alice', 'org_a', 'org:posts:publish')).toBe(true);
      expect(await check('user_alice', 'org_b', 'org:posts:publish')).toBe(false);
      expect(await check('user_bob', 'org_a', 'org:posts:read')).toBe(false); // membership deleted
      expect(await check('user_inactive', 'org_a', 'org:posts:read')).toBe(false);
      expect(await check('user_gone', 'org_a', 'org:posts:read')).toBe(false);
      expect(await check('user_alice', 'org_dead', 'org:posts:edit')).toBe(false);
      expect(await check('user_bob', 'org_b', 'org:billing:read')).toBe(false); // role deleted
    });

    it('a deleted user is not active', async () => {
      const r = await db().query<{ id: string; is_active: boolean }>("select id, is_active from clerk.users where id in ('user_gone', 'user_alice') order by id");
      expect(r.rows).toEqual([{ id: 'user_alice', is_active: true }, { id: 'user_gone', is_active: false }]);
    });

    it('can() in TypeScript', async () => {
      expect(await can(db(), OPTS, 'user_alice', 'org_a', 'org:posts:edit')).toBe(true);
      expect(await can(db(), OPTS, 'user_bob', 'org_b', 'org:legacy:use')).toBe(false);
      expect(await can(db(), {}, 'user_new', 'org_new', 'org:posts:read')).toBe(true);
    });

    it('accessFor() lists the organizations with role and permissions', async () => {
      expect(await accessFor(db(), OPTS, 'user_alice')).toEqual([
        { organizationId: 'org_a', organizationName: 'Alpha', organizationSlug: 'alpha', membershipId: 'mem_alice_a', role: 'org:editor', permissions: ['org:posts:edit', 'org:posts:publish'] },
        { organizationId: 'org_b', organizationName: 'Beta', organizationSlug: 'beta', membershipId: 'mem_alice_b', role: 'org:member', permissions: ['org:posts:read'] },
      ]);
      expect(await accessFor(db(), OPTS, 'user_inactive')).toEqual([
        { organizationId: 'org_a', organizationName: 'Alpha', organizationSlug: 'alpha', membershipId: 'mem_inactive', role: 'org:editor', permissions: [] },
      ]);
      expect(await accessFor(db(), OPTS, 'user_gone')).toEqual([]);
    });

    describe('forOrganization(): tenant isolation', () => {
      it("returns only the organization's rows, never another tenant's", async () => {
        const a = forOrganization(db(), 'org_a', OPTS);
        const b = forOrganization(db(), 'org_b', OPTS);
        expect((await a.memberships()).map((m) => m.membershipId)).toEqual(['mem_alice_a', 'mem_inactive']);
        expect((await b.memberships()).map((m) => m.membershipId)).toEqual(['mem_alice_b', 'mem_bob_b']);
        expect((await a.users()).map((u) => [u.id, u.role, u.primaryEmail])).toEqual([
          ['user_alice', 'org:editor', 'user_alice@example.com'],
          ['user_inactive', 'org:editor', 'user_inactive@example.com'],
        ]);
        expect((await b.users()).map((u) => u.id)).toEqual(['user_alice', 'user_bob']);
        expect((await a.invitations()).map((i) => i.id)).toEqual(['inv_a']);
        expect((await b.invitations()).map((i) => i.id)).toEqual(['inv_b', 'inv_b2']);
        expect((await b.invitations({ status: 'accepted' })).map((i) => i.id)).toEqual(['inv_b2']);
        expect((await a.domains()).map((d) => d.name)).toEqual(['alpha.com']);
        expect((await b.domains()).map((d) => d.name)).toEqual(['beta.com']);
        expect(await a.can('user_bob', 'org:billing:read')).toBe(false);
        expect(await b.can('user_bob', 'org:billing:read')).toBe(false);
        expect(await b.can('user_alice', 'org:posts:read')).toBe(true);
        expect(await a.can('user_alice', 'org:posts:read')).toBe(false);
      });

      it('for every organization, no row of another organization shows', async () => {
        for (const id of ['org_a', 'org_b', 'org_dead', 'org_new', 'org_missing']) {
          const scope = forOrganization(db(), id, OPTS);
          const memberIds = (await scope.memberships()).map((m) => m.membershipId);
          const owners = await db().query<{ organization_id: string }>('select organization_id from clerk.organization_memberships where id = any($1::text[])', [memberIds]);
          expect(owners.rows.every((r) => r.organization_id === id)).toBe(true);
          const invIds = (await scope.invitations()).map((i) => i.id);
          const invOwners = await db().query<{ organization_id: string }>('select organization_id from clerk.organization_invitations where id = any($1::text[])', [invIds]);
          expect(invOwners.rows.every((r) => r.organization_id === id)).toBe(true);
          const domIds = (await scope.domains()).map((d) => d.id);
          const domOwners = await db().query<{ organization_id: string }>('select organization_id from clerk.organization_domains where id = any($1::text[])', [domIds]);
          expect(domOwners.rows.every((r) => r.organization_id === id)).toBe(true);
        }
      });

      it('refuses an empty organization id', () => {
        expect(() => forOrganization(db(), '', OPTS)).toThrow(TypeError);
      });
    });
  });
}
