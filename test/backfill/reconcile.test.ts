/**
 * Reconcile and read-through against the fake Backend API, on every database backend.
 * Reconcile tombstones exactly the rows whose entity Clerk confirms gone (not those a listing
 * merely missed), reports them, refuses a mass deletion that smells of the wrong instance, and
 * changes nothing in a dry run. ensureUser/ensureOrganization fetch and apply a missing row at
 * once, and leave present rows and tombstones alone.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ReconcileRefusedError } from '../../src/backfill/reconcile.js';
import { runBackfill } from '../../src/backfill/run.js';
import { runReconcile } from '../../src/backfill/reconcile.js';
import { enqueueEvents } from '../../src/inbox/enqueue.js';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeClerkApi, type FakeClerkApi } from '../support/fake-clerk-api.js';
import { SCHEMA, count, drain, fakeApi } from './support.js';

const TABLES = ['webhook_events', 'outbox', 'users', 'organizations', 'organization_memberships', 'organization_invitations', 'invitations', 'roles', 'permissions'];

for (const backend of backends) {
  describe(`reconcile and read-through (${backend.name})`, () => {
    let database: TestDatabase;
    let fake: FakeClerkApi;

    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => {
      await fake?.close();
      await database.drop();
    });
    beforeEach(async () => {
      await fake?.close();
      fake = await startFakeClerkApi();
      fake.seed({ users: 20, organizations: 3, membershipsPerOrganization: 4, roles: 2, permissions: 2 });
      for (const t of TABLES) await database.db.query(`delete from clerk.${t}`);
      await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake) });
      await drain(database.db);
      // Rows synced "before" the pass: reconcile leaves rows written during its own pass alone.
      for (const t of TABLES.slice(2)) await database.db.query(`update clerk.${t} set synced_at = now() - interval '1 minute'`);
    });

    const deletedIds = async (table: string) =>
      (await database.db.query<{ id: string }>(`select id from clerk.${table} where deleted_at is not null order by id`)).rows.map((r) => r.id);

    it('tombstones what Clerk no longer has, and only that', async () => {
      const goneUser = fake.users[5]!.id;
      const goneOrg = fake.organizations[2]!.id as string;
      const goneMembership = fake.memberships.get(fake.organizations[0]!.id as string)![1]!.id as string;
      const hidden = fake.users[7]!.id;
      const goneRole = fake.roles[1]!.id as string;
      const gonePermission = fake.permissions[0]!.id as string;
      const orgMemberships = fake.memberships.get(goneOrg)!.map((m) => m.id as string);
      const userMemberships = [...fake.memberships.values()].flat().filter((m) => (m.public_user_data as { user_id: string }).user_id === goneUser).map((m) => m.id as string);
      fake.deleteUser(goneUser);
      fake.deleteOrganization(goneOrg);
      fake.deleteMembership(fake.organizations[0]!.id as string, goneMembership);
      fake.roles.splice(1, 1);
      fake.permissions.splice(0, 1);
      fake.hiddenFromListings.add(hidden);

      fake.updateUser(fake.users[0]!.id, { first_name: 'Changed' });
      const inboxBefore = await count(database.db, 'select count(*)::int as n from clerk.webhook_events');
      const dry = await runReconcile({ db: database.db, schema: SCHEMA, api: fakeApi(fake), dryRun: true });
      expect(dry.tombstoned.users).toEqual([goneUser]);
      expect(dry.backfill.counts.users).toMatchObject({ stored: 0 });
      expect(inboxBefore).toBe(await count(database.db, 'select count(*)::int as n from clerk.webhook_events'));
      expect(await deletedIds('users')).toEqual([]);

      const result = await runReconcile({ db: database.db, schema: SCHEMA, api: fakeApi(fake) });
      expect(result.backfill.complete).toBe(true);
      expect(result.tombstoned.users).toEqual([goneUser]);
      expect(result.tombstoned.organizations).toEqual([goneOrg]);
      expect(new Set(result.tombstoned.memberships)).toEqual(new Set([goneMembership, ...orgMemberships, ...userMemberships]));
      expect(result.tombstoned.roles).toEqual([goneRole]);
      expect(result.tombstoned.permissions).toEqual([gonePermission]);
      expect(result.skipped).toEqual({});
      const synthetic = await database.db.query<{ id: string; source: string; payload: any }>(`select id, source, payload from clerk.webhook_events where type = 'user.deleted'`);
      expect(synthetic.rows).toHaveLength(1);
      expect(synthetic.rows[0]).toMatchObject({ source: 'backfill', payload: { type: 'user.deleted', data: { id: goneUser, deleted: true } } });

      await drain(database.db);
      expect(await deletedIds('users')).toEqual([goneUser]);
      expect(await deletedIds('organizations')).toEqual([goneOrg]);
      expect(new Set(await deletedIds('organization_memberships'))).toEqual(new Set(result.tombstoned.memberships));
      expect(await deletedIds('roles')).toEqual([goneRole]);
      expect(await deletedIds('permissions')).toEqual([gonePermission]);
      // The user the listing missed is still there, and nothing fired.
      expect(await count(database.db, 'select count(*)::int as n from clerk.users where id = $1 and deleted_at is null', [hidden])).toBe(1);
      expect(await count(database.db, 'select count(*)::int as n from clerk.outbox')).toBe(0);

      const again = await runReconcile({ db: database.db, schema: SCHEMA, api: fakeApi(fake) });
      expect(again.tombstoned).toEqual({});
    });

    it('refuses to tombstone most of a table unless forced', async () => {
      for (const user of fake.users.slice(0, 15)) fake.deleteUser(user.id);
      await expect(runReconcile({ db: database.db, schema: SCHEMA, api: fakeApi(fake), resources: ['users'] })).rejects.toBeInstanceOf(ReconcileRefusedError);
      expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events where type = 'user.deleted'`)).toBe(0);
      const forced = await runReconcile({ db: database.db, schema: SCHEMA, api: fakeApi(fake), resources: ['users'], force: true });
      expect(forced.tombstoned.users).toHaveLength(15);
      expect(forced.skipped).toMatchObject({ organizations: 'not listed in this run', memberships: 'not listed in this run' });
    });

    it('tombstones nothing when the listing stops early', async () => {
      fake.deleteUser(fake.users[0]!.id);
      const result = await runReconcile({ db: database.db, schema: SCHEMA, api: fakeApi(fake, { maxRequests: 3 }) });
      expect(result.backfill.complete).toBe(false);
      expect(result.tombstoned).toEqual({});
    });

    describe('ensureUser and ensureOrganization', () => {
      let sync: ClerkSync;
      beforeEach(() => {
        sync = createClerkSync({ db: database.db, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', clerkSecretKey: fake.secretKey, clerkApiUrl: fake.url, clerkApiRequestsPerSecond: 1000, logger: false });
      });

      it('fetches and applies a user the webhook has not brought yet', async () => {
        const user = fake.addUser({ email: 'new.signup@example.com' });
        const before = fake.requests.length;
        const row = await sync.ensureUser(user.id);
        expect(row).toMatchObject({ id: user.id, primary_email: 'new.signup@example.com', deleted_at: null });
        expect(fake.requests.slice(before).map((r) => r.path)).toEqual([`/v1/users/${user.id}`]);
        const inbox = await database.db.query<{ status: string; source: string }>('select status, source from clerk.webhook_events where id = $1', [`backfill:user.updated:${user.id}:${user.updated_at}`]);
        expect(inbox.rows[0]).toEqual({ status: 'applied', source: 'backfill' });
        // Present now: no second request.
        await sync.ensureUser(user.id);
        expect(fake.requests.length).toBe(before + 1);
        // The webhook that arrives later still wins when it is newer, and changes nothing when not.
        const later = JSON.stringify({ type: 'user.created', data: { ...user, first_name: 'Later' }, timestamp: user.updated_at });
        await enqueueEvents(database.db, SCHEMA, [{ id: 'msg_late_create', type: 'user.created', clerkTimestamp: user.updated_at + 10, instanceId: null, payload: later }]);
        await drain(database.db);
        expect((await database.db.query<{ first_name: string }>('select first_name from clerk.users where id = $1', [user.id])).rows[0]!.first_name).toBe('Later');
        // A real sign-up webhook: its welcome email and Slack notice are due, unlike the backfill's.
        expect(await count(database.db, 'select count(*)::int as n from clerk.outbox')).toBe(2);
      });

      it('a backfill applying its pages re-applies the stored event of a row a far-future version froze', async () => {
        await sync.backfill({ resources: ['users'], applyPages: true });
        const user = fake.users[0]!;
        await database.db.query('update clerk.users set first_name = $1, _version = $2, _event_ts = $2 where id = $3', ['Stuck', 253_402_300_799_000, user.id]);
        await sync.backfill({ resources: ['users'], applyPages: true });
        const row = await database.db.query<{ first_name: string; _version: string }>('select first_name, _version::text from clerk.users where id = $1', [user.id]);
        expect(row.rows[0]).toEqual({ first_name: user.first_name, _version: String(user.updated_at) });
      });

      it('answers null for an id Clerk does not know, and a tombstone without asking', async () => {
        expect(await sync.ensureUser('user_nobody')).toBeNull();
        const user = fake.users[1]!;
        await enqueueEvents(database.db, SCHEMA, [{ id: 'msg_del', type: 'user.deleted', clerkTimestamp: Date.now(), instanceId: null, payload: JSON.stringify({ type: 'user.deleted', data: { id: user.id, deleted: true } }) }]);
        await drain(database.db);
        const before = fake.requests.length;
        const row = await sync.ensureUser(user.id);
        expect(row?.deleted_at).not.toBeNull();
        expect(fake.requests.length).toBe(before);
      });

      it('does the same for organizations', async () => {
        const org = fake.addOrganization({ name: 'Brand New' });
        expect(await sync.ensureOrganization(org.id as string)).toMatchObject({ id: org.id, name: 'Brand New' });
        expect(await sync.ensureOrganization('org_nobody')).toBeNull();
      });

      it('says which variable is missing without a secret key', async () => {
        const bare = createClerkSync({ db: database.db, logger: false });
        await expect(bare.ensureUser('user_x')).rejects.toThrow(/CLERK_SECRET_KEY/);
        await expect(bare.backfill()).rejects.toThrow(/CLERK_SECRET_KEY/);
      });
    });
  });
}
