/**
 * Row-level security as a property: for random histories of users (active, inactive, deleted),
 * organizations (live, deleted), memberships (created, updated, deleted), roles (changed,
 * deleted) and permissions (deleted), applied in a random order, the rows of an app table that
 * each user sees through the policies, as the non-owner app role, are exactly those of the
 * organizations where can() allows the read permission; inserting into an organization succeeds
 * exactly where can() allows the write permission; no user, an unknown user and a user whose
 * memberships are all deleted see nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can } from '../../src/access/index.js';
import { withClerkUser } from '../../src/access/rls.js';
import type { Queryable } from '../../src/core/db.js';
import { applyEvent } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { envelope, stored, truncateAll } from '../projections/support.js';
import { dropRole, READ, setUpApp, WRITE, type AppRole } from './support.js';

const T = 1_750_000_000_000;
const PERMS = [READ, WRITE];
const USERS = ['user_1', 'user_2', 'user_3'];
const ORGS = ['org_1', 'org_2', 'org_3'];
const ROLES: Record<string, string> = { role_1: 'org:editor', role_2: 'org:viewer' };
const MEMBERSHIPS: Record<string, [string, string]> = { mem_1: ['org_1', 'user_1'], mem_2: ['org_2', 'user_1'], mem_3: ['org_1', 'user_2'], mem_4: ['org_3', 'user_3'], mem_5: ['org_2', 'user_3'] };

type Data = Record<string, unknown>;
const permObjs = (keys: string[]) => keys.map((key) => ({ object: 'permission', id: `perm_${key}`, key }));

// Weighted towards memberships and roles, so that most histories grant something to someone.
const event = fc.oneof(
  { weight: 6, arbitrary: fc.record({ id: fc.constantFrom(...Object.keys(MEMBERSHIPS)), kind: fc.constantFrom('created', 'updated', 'deleted'), role: fc.constantFrom('org:editor', 'org:viewer', 'org:member'), permissions: fc.subarray(PERMS, { minLength: 1 }) })
    .map(({ id, kind, role, permissions }) => ({ type: `organizationMembership.${kind}`, data: { id, object: 'organization_membership', role, permissions, organization: { id: MEMBERSHIPS[id]![0] }, public_user_data: { user_id: MEMBERSHIPS[id]![1] } } as Data })) },
  { weight: 3, arbitrary: fc.record({ id: fc.constantFrom(...Object.keys(ROLES)), kind: fc.constantFrom('created', 'updated', 'deleted'), permissions: fc.subarray(PERMS) })
    .map(({ id, kind, permissions }) => ({ type: `role.${kind}`, data: kind === 'deleted' ? { id, object: 'role', deleted: true } : { id, object: 'role', key: ROLES[id], name: id, permissions: permObjs(permissions) } })) },
  { weight: 2, arbitrary: fc.record({ id: fc.constantFrom(...USERS), kind: fc.constantFrom('created', 'updated', 'deleted'), active: fc.boolean() })
    .map(({ id, kind, active }) => ({ type: `user.${kind}`, data: kind === 'deleted' ? { id, object: 'user', deleted: true } : { id, object: 'user', public_metadata: active ? {} : { isActive: false } } })) },
  { weight: 1, arbitrary: fc.record({ id: fc.constantFrom(...ORGS), kind: fc.constantFrom('created', 'deleted') })
    .map(({ id, kind }) => ({ type: `organization.${kind}`, data: kind === 'deleted' ? { id, object: 'organization', deleted: true } : { id, object: 'organization', name: id } })) },
  { weight: 1, arbitrary: fc.constantFrom(...PERMS).map((key) => ({ type: 'permission.deleted', data: { id: `perm_${key}`, object: 'permission', deleted: true } as Data })) },
);

// Each event gets its own instant (the order Clerk sent them); `rank` is the delivery order.
const history = fc.array(fc.tuple(event, fc.nat()), { minLength: 3, maxLength: 20 });

class Rollback {
  constructor(readonly result: { inserted: string[]; updated: string[]; deleted: string[] }) {}
}

const seen = async (q: Queryable) => (await q.query<{ organization_id: string }>('select distinct organization_id from notes order by 1')).rows.map((r) => r.organization_id);

for (const backend of backends) {
  describe(`row-level security property (${backend.name})`, () => {
    let database: TestDatabase;
    let app: AppRole;
    beforeAll(async () => {
      database = await backend.create();
      app = await setUpApp(database, { read: READ });
    });
    afterAll(async () => {
      await database.drop();
      await dropRole(app);
    });

    it('each user sees and writes exactly what can() allows', async () => {
      const db = database.db;
      let granted = 0;
      await fc.assert(
        fc.asyncProperty(history, async (events) => {
          await truncateAll(db);
          await db.query('delete from notes');
          for (const org of ORGS) await db.query(`insert into notes values ($1, $2, 'x'), ($3, $2, 'y')`, [`${org}_a`, org, `${org}_b`]);
          const order = events.map(([e, rank], i) => ({ e, rank, i })).sort((a, b) => a.rank - b.rank || a.i - b.i);
          await db.transaction(async (tx) => {
            for (const { e, i } of order) {
              const at = T + i * 1000;
              const data = e.data.deleted === true ? e.data : { ...e.data, updated_at: at };
              await applyEvent(tx, stored(envelope(e.type, data, at), { id: `msg_${String(i).padStart(3, '0')}` }), { schema: 'clerk', deleteMode: 'soft' });
            }
          });
          for (const user of [...USERS, 'user_unknown']) {
            const readable: string[] = [];
            const writable: string[] = [];
            for (const org of ORGS) {
              if (await can(db, {}, user, org, READ)) readable.push(org);
              if (await can(db, {}, user, org, WRITE)) writable.push(org);
            }
            expect(await app.as((q) => withClerkUser(q, user, seen)), `${user} reads`).toEqual(readable);
            // Everything runs in one transaction that is always rolled back, so the rows stay for the next user.
            const attempt = await app.as((q) =>
              q.transaction(async (tx) => {
                await tx.query(`select set_config('clerk.user_id', $1, true)`, [user]);
                const inserted: string[] = [];
                for (const org of ORGS) {
                  await tx.query('savepoint s');
                  try {
                    await tx.query(`insert into notes values ($1, $2, 'new')`, [`${org}_new`, org]);
                    inserted.push(org);
                    await tx.query('release savepoint s');
                  } catch {
                    await tx.query('rollback to savepoint s');
                  }
                }
                // another tenant's rows cannot be changed or removed either
                const updated = await tx.query<{ organization_id: string }>(`update notes set body = 'changed' where id like '%\\_a' returning organization_id`);
                const deleted = await tx.query<{ organization_id: string }>(`delete from notes where id like '%\\_b' returning organization_id`);
                throw new Rollback({ inserted, updated: updated.rows.map((r) => r.organization_id).sort(), deleted: deleted.rows.map((r) => r.organization_id).sort() });
              }),
            ).catch((e: unknown) => {
              if (e instanceof Rollback) return e.result;
              throw e;
            });
            const both = writable.filter((o) => readable.includes(o));
            expect(attempt, user).toEqual({ inserted: writable, updated: both, deleted: both });
            if (readable.length > 0) granted++;
          }
          expect(await app.as(seen), 'no user').toEqual([]);
        }),
        { numRuns: backend.name === 'pglite' ? 20 : 30 },
      );
      // the histories do grant access, so the property is not vacuous
      expect(granted).toBeGreaterThan(0);
    }, 300_000);
  });
}
