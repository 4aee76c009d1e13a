/**
 * Revocation: a membership's permissions are its role's current ones when the role is synced,
 * none when the role is deleted, its own snapshot when the role is unknown; a deleted permission
 * is dropped. Random histories of role changes and deletions, permission deletions, memberships
 * with synced and unknown roles, and user deletions, applied in random orders: user_permissions,
 * the SQL can() and the TypeScript can() always equal the model. Also: the metadata grants
 * (opt-in) and a deleted user's is_active.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can } from '../../src/access/index.js';
import type { Db } from '../../src/core/db.js';
import { applyEvent, type StoredEvent } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { deliver, envelope, stored, truncateAll } from '../projections/support.js';

const T = 1_750_000_000_000;
type Data = Record<string, unknown>;
interface Ev { type: string; data: Data; at: number }

const PERMS = ['org:a:read', 'org:a:write', 'org:b:read'];
const ROLES: Record<string, string> = { role_1: 'org:editor', role_2: 'org:admin' };
// org:member is never synced: the membership's snapshot is all there is.
const ROLE_KEYS = ['org:editor', 'org:admin', 'org:member'];
const MEMBERSHIPS: Record<string, [string, string]> = { mem_1: ['org_1', 'user_1'], mem_2: ['org_1', 'user_2'], mem_3: ['org_2', 'user_1'] };
const USERS = ['user_1', 'user_2'];
const ORGS = ['org_1', 'org_2'];

const roleEvent = fc.record({ id: fc.constantFrom(...Object.keys(ROLES)), kind: fc.constantFrom('role.created', 'role.updated', 'role.updated', 'role.deleted'), permissions: fc.subarray(PERMS) })
  .map(({ id, kind, permissions }) => ({
    type: kind,
    data: kind === 'role.deleted' ? { id, object: 'role', deleted: true } : { id, object: 'role', key: ROLES[id], name: id, permissions: permissions.map((key) => ({ object: 'permission', id: `perm_${key}`, key })) },
  }));
const permissionEvent = fc.record({ key: fc.constantFrom(...PERMS), kind: fc.constantFrom('permission.created', 'permission.deleted') })
  .map(({ key, kind }) => ({ type: kind, data: kind === 'permission.deleted' ? { id: `perm_${key}`, object: 'permission', deleted: true } : { id: `perm_${key}`, object: 'permission', key, name: key } }));
const membershipEvent = fc.record({ id: fc.constantFrom(...Object.keys(MEMBERSHIPS)), kind: fc.constantFrom('organizationMembership.created', 'organizationMembership.updated', 'organizationMembership.deleted'), role: fc.constantFrom(...ROLE_KEYS), permissions: fc.subarray(PERMS) })
  .map(({ id, kind, role, permissions }) => {
    const [org, user] = MEMBERSHIPS[id]!;
    return { type: kind, data: { id, object: 'organization_membership', role, permissions, organization: { id: org }, public_user_data: { user_id: user } } };
  });
const userEvent = fc.record({ id: fc.constantFrom(...USERS), kind: fc.constantFrom('user.created', 'user.deleted') })
  .map(({ id, kind }) => ({ type: kind, data: kind === 'user.deleted' ? { id, object: 'user', deleted: true } : { id, object: 'user', public_metadata: {} } }));

// Distinct instants, in generation order: the history's own order is the order Clerk sent it.
const history = fc.array(fc.oneof(roleEvent, roleEvent, permissionEvent, membershipEvent, membershipEvent, userEvent), { minLength: 1, maxLength: 16 })
  .map((events) => events.map((e, i): Ev => ({ ...e, at: T + i * 1000 })));

/** The newest data of each entity, and whether any of its events deleted it. */
function latest(events: Ev[], prefix: string): Map<string, { data: Data | null; deleted: boolean }> {
  const out = new Map<string, { data: Data | null; deleted: boolean; at: number }>();
  for (const e of events.filter((x) => x.type.startsWith(prefix))) {
    const id = e.data.id as string;
    const r = out.get(id) ?? { data: null, deleted: false, at: -1 };
    if (e.data.deleted !== true && e.at > r.at) Object.assign(r, { data: e.data, at: e.at });
    if (e.type.endsWith('.deleted')) r.deleted = true;
    out.set(id, r);
  }
  return out;
}

function expected(events: Ev[]): string[] {
  const roles = [...latest(events, 'role.').values()].filter((r) => r.data);
  const permissions = [...latest(events, 'permission.').values()].filter((p) => p.data);
  const users = latest(events, 'user.');
  const out = new Set<string>();
  for (const [id, m] of latest(events, 'organizationMembership.')) {
    if (m.deleted || !m.data) continue;
    const [org, user] = MEMBERSHIPS[id]!;
    if (users.get(user)?.deleted) continue;
    const known = roles.filter((r) => r.data!.key === m.data!.role);
    const live = known.filter((r) => !r.deleted);
    const held = live.length > 0 ? live.flatMap((r) => (r.data!.permissions as Data[]).map((p) => p.key as string)) : known.length > 0 ? [] : (m.data.permissions as string[]);
    for (const p of held) {
      const withKey = permissions.filter((x) => x.data!.key === p);
      if (withKey.length > 0 && withKey.every((x) => x.deleted)) continue;
      out.add(`${user}|${org}|${p}`);
    }
  }
  return [...out].sort();
}

const toStored = (e: Ev, n: number): StoredEvent =>
  stored(envelope(e.type, e.data.deleted === true ? e.data : { ...e.data, updated_at: e.at }, e.at), { id: `msg_${String(n).padStart(3, '0')}` });

async function held(db: Db): Promise<string[]> {
  const r = await db.query<{ user_id: string; organization_id: string; permission: string }>('select user_id, organization_id, permission from clerk.user_permissions');
  return r.rows.map((x) => `${x.user_id}|${x.organization_id}|${x.permission}`).sort();
}

for (const backend of backends) {
  describe(`revocation (${backend.name})`, () => {
    let database: TestDatabase;
    const db = () => database.db;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => database.drop());

    it('a role.updated with fewer permissions revokes them from every member at once; deleting the role revokes all', async () => {
      await truncateAll(db());
      const role = (perms: string[]) => ({ id: 'role_e', object: 'role', key: 'org:editor', name: 'Editor', permissions: perms.map((key) => ({ object: 'permission', key, id: `perm_${key}` })) });
      await deliver(db(), stored(envelope('organizationMembership.created', { id: 'mem_x', object: 'organization_membership', role: 'org:editor', permissions: ['org:posts:read', 'org:posts:write'], organization: { id: 'org_x' }, public_user_data: { user_id: 'user_x' }, updated_at: T }, T)));
      expect(await can(db(), {}, 'user_x', 'org_x', 'org:posts:write')).toBe(true); // role not synced yet: the snapshot
      await deliver(db(), stored(envelope('role.created', { ...role(['org:posts:read', 'org:posts:write']), updated_at: T + 1 }, T + 1)));
      expect(await can(db(), {}, 'user_x', 'org_x', 'org:posts:write')).toBe(true);
      await deliver(db(), stored(envelope('role.updated', { ...role(['org:posts:read']), updated_at: T + 2 }, T + 2)));
      expect(await can(db(), {}, 'user_x', 'org_x', 'org:posts:write')).toBe(false);
      expect(await can(db(), {}, 'user_x', 'org_x', 'org:posts:read')).toBe(true);
      await deliver(db(), stored(envelope('role.deleted', { id: 'role_e', object: 'role', deleted: true }, T + 3)));
      expect(await can(db(), {}, 'user_x', 'org_x', 'org:posts:read')).toBe(false);
      expect(await held(db())).toEqual([]);
    });

    it('user_permissions and can() equal the model for random histories in any order', async () => {
      await fc.assert(
        fc.asyncProperty(history, fc.array(fc.nat(), { minLength: 16, maxLength: 16 }), async (events, keys) => {
          const order = events.map((e, i) => ({ e, i, k: keys[i]! })).sort((a, b) => a.k - b.k || a.i - b.i);
          await truncateAll(db());
          await db().transaction(async (tx) => {
            for (const { e, i } of order) await applyEvent(tx, toStored(e, i), { schema: 'clerk', deleteMode: 'soft' });
          });
          const want = expected(events);
          expect(await held(db())).toEqual(want);
          for (const user of USERS) for (const org of ORGS) for (const p of PERMS) {
            expect(await can(db(), {}, user, org, p), `${user} ${org} ${p}`).toBe(want.includes(`${user}|${org}|${p}`));
          }
          const inactive = await db().query<{ n: number }>('select count(*)::int as n from clerk.users where deleted_at is not null and is_active');
          expect(inactive.rows[0]!.n).toBe(0);
        }),
        { numRuns: backend.name === 'pglite' ? 40 : 60 },
      );
    }, 120_000);

    it('metadata grants count only when enabled, only for the metadata organization, only for a live active user', async () => {
      await truncateAll(db());
      const user = (id: string, meta: Data) => envelope('user.created', { id, object: 'user', public_metadata: meta, updated_at: T }, T);
      await deliver(db(), stored(user('user_m', { role: 'org:custom', permissions: ['org:notes:write'], organizationId: 'org_m' })));
      await deliver(db(), stored(user('user_off', { permissions: ['org:notes:write'], organizationId: 'org_m', isActive: false })));
      await deliver(db(), stored(user('user_del', { permissions: ['org:notes:write'], organizationId: 'org_m' })));
      await deliver(db(), stored(envelope('user.deleted', { id: 'user_del', object: 'user', deleted: true }, T + 1)));
      expect(await can(db(), {}, 'user_m', 'org_m', 'org:notes:write')).toBe(false);
      expect(await can(db(), { metadataGrants: false }, 'user_m', 'org_m', 'org:notes:write')).toBe(false);
      expect(await can(db(), { metadataGrants: true }, 'user_m', 'org_m', 'org:notes:write')).toBe(true);
      expect(await can(db(), { metadataGrants: true }, 'user_m', 'org_other', 'org:notes:write')).toBe(false);
      expect(await can(db(), { metadataGrants: true }, 'user_off', 'org_m', 'org:notes:write')).toBe(false);
      expect(await can(db(), { metadataGrants: true }, 'user_del', 'org_m', 'org:notes:write')).toBe(false);
      // The metadata role follows the same rule as a membership's: once synced, its permissions replace the list.
      await deliver(db(), stored(envelope('role.created', { id: 'role_c', object: 'role', key: 'org:custom', name: 'c', permissions: [{ object: 'permission', key: 'org:notes:read', id: 'perm_r' }], updated_at: T }, T)));
      expect(await can(db(), { metadataGrants: true }, 'user_m', 'org_m', 'org:notes:write')).toBe(false);
      expect(await can(db(), { metadataGrants: true }, 'user_m', 'org_m', 'org:notes:read')).toBe(true);
      await deliver(db(), stored(envelope('organization.deleted', { id: 'org_m', object: 'organization', deleted: true }, T + 2)));
      expect(await can(db(), { metadataGrants: true }, 'user_m', 'org_m', 'org:notes:read')).toBe(false);
    });

    it('a deleted user is not active, also when the deletion arrives first and after a later update', async () => {
      await truncateAll(db());
      await deliver(db(), stored(envelope('user.deleted', { id: 'user_d', object: 'user', deleted: true }, T + 5)));
      await deliver(db(), stored(envelope('user.updated', { id: 'user_d', object: 'user', public_metadata: { isActive: true }, updated_at: T + 9 }, T + 9)));
      const r = await db().query<{ is_active: boolean }>("select is_active from clerk.users where id = 'user_d'");
      expect(r.rows).toEqual([{ is_active: false }]);
      // Any write path: a direct update cannot make it active again either.
      await db().query("update clerk.users set is_active = true where id = 'user_d'");
      expect((await db().query<{ is_active: boolean }>("select is_active from clerk.users where id = 'user_d'")).rows).toEqual([{ is_active: false }]);
    });
  });
}
