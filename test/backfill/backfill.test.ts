/**
 * Backfill against the fake Backend API, on every database backend: what it stores, that it goes
 * through the same ordering rules as webhooks (never overwriting newer data, never resurrecting a
 * tombstone), fires no side effects, honours 429/Retry-After and the request budget, and resumes
 * after a crash or an interruption from where it stopped.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enqueueEvents } from '../../src/inbox/enqueue.js';
import { ClerkApiError } from '../../src/backfill/clerk-api.js';
import { memoryCursorStore } from '../../src/backfill/cursor.js';
import { runBackfill } from '../../src/backfill/run.js';
import { syntheticEvent } from '../../src/backfill/synthetic.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeClerkApi, type FakeClerkApi } from '../support/fake-clerk-api.js';
import { SCHEMA, count, drain, fakeApi, inboxByType } from './support.js';

const SEED = { users: 30, organizations: 5, membershipsPerOrganization: 3, invitationsPerOrganization: 1, invitations: 2, roles: 2, permissions: 3 };

function webhook(type: string, data: Record<string, unknown>, id: string) {
  const payload = JSON.stringify({ type, object: 'event', data, timestamp: Number(data.updated_at ?? Date.now()) });
  return { id, type, clerkTimestamp: Number(data.updated_at ?? Date.now()), instanceId: 'ins_1', payload, bodySha256: id, source: 'webhook' as const };
}

for (const backend of backends) {
  describe(`backfill (${backend.name})`, () => {
    let database: TestDatabase;
    let fake: FakeClerkApi;

    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => {
      await database.drop();
    });
    beforeEach(async () => {
      await fake?.close();
      fake = await startFakeClerkApi();
      fake.seed(SEED);
      for (const t of ['webhook_events', 'outbox', 'users', 'organizations', 'organization_memberships', 'organization_invitations', 'invitations', 'roles', 'permissions']) {
        await database.db.query(`delete from clerk.${t}`);
      }
    });
    afterAll(async () => {
      await fake?.close();
    });

    it('stores every entity as a synthetic backfill event, in pages, and the worker applies them with no side effects', async () => {
      const result = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), pageSize: 10 });
      expect(result.complete).toBe(true);
      expect(await inboxByType(database.db)).toEqual({
        'invitation.created': 2,
        'organization.updated': 5,
        'organizationInvitation.created': 5,
        'organizationMembership.updated': 15,
        'permission.updated': 3,
        'role.updated': 2,
        'user.updated': 30,
      });
      expect(result.counts.users).toEqual({ listed: 30, stored: 30 });
      const user = fake.users[0]!;
      const row = (await database.db.query<{ id: string; payload: any; status: string; clerk_timestamp: string }>(`select * from clerk.webhook_events where id = $1`, [`backfill:user.updated:${user.id}:${user.updated_at}`])).rows[0]!;
      expect(row.payload).toMatchObject({ type: 'user.updated', object: 'event', timestamp: user.updated_at, data: { id: user.id, object: 'user', email_addresses: user.email_addresses } });
      expect(Number(row.clerk_timestamp)).toBe(user.updated_at);
      // Pages of at most the page size, oldest first, until the reported total (the SDK leaves out offset=0).
      const userPages = fake.requests.filter((r) => r.path === '/v1/users');
      expect(userPages.map((r) => [r.query.limit, r.query.offset, r.query.order_by])).toEqual([
        ['10', undefined, '+created_at'],
        ['10', '10', '+created_at'],
        ['10', '20', '+created_at'],
      ]);

      const drained = await drain(database.db);
      expect(drained.dead + drained.failed).toBe(0);
      expect(await count(database.db, 'select count(*)::int as n from clerk.users where deleted_at is null')).toBe(30);
      expect(await count(database.db, 'select count(*)::int as n from clerk.organization_memberships')).toBe(15);
      expect(await count(database.db, 'select count(*)::int as n from clerk.roles')).toBe(2);
      expect(await count(database.db, 'select count(*)::int as n from clerk.permissions')).toBe(3);
      expect(await count(database.db, 'select count(*)::int as n from clerk.invitations')).toBe(2);
      expect(await count(database.db, 'select count(*)::int as n from clerk.organization_invitations')).toBe(5);
      const email = await database.db.query<{ primary_email: string }>('select primary_email from clerk.users where id = $1', [user.id]);
      expect(email.rows[0]!.primary_email).toBe((user.email_addresses as any)[0].email_address);
      // Welcome emails and Slack notices are on, yet backfilled sign-ups fire none.
      expect(await count(database.db, 'select count(*)::int as n from clerk.outbox')).toBe(0);
    });

    it('is idempotent, and a second run stores only what changed', async () => {
      await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake) });
      const again = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake) });
      expect(again.counts.users).toEqual({ listed: 30, stored: 0 });
      fake.updateUser(fake.users[3]!.id, { first_name: 'Renamed' });
      const third = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), resources: ['users'] });
      expect(third.counts.users).toEqual({ listed: 30, stored: 1 });
    });

    it('never overwrites newer webhook data and never resurrects a tombstone', async () => {
      const [newer, deleted] = [fake.users[0]!, fake.users[1]!];
      await enqueueEvents(database.db, SCHEMA, [
        webhook('user.updated', { ...newer, first_name: 'FromWebhook', updated_at: newer.updated_at + 60_000 }, 'msg_newer'),
        webhook('user.deleted', { object: 'user', id: deleted.id, deleted: true }, 'msg_deleted'),
      ]);
      await drain(database.db);
      await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), resources: ['users'] });
      await drain(database.db);
      const rows = await database.db.query<{ id: string; first_name: string; deleted_at: Date | null }>('select id, first_name, deleted_at from clerk.users where id = any($1)', [[newer.id, deleted.id]]);
      const byId = Object.fromEntries(rows.rows.map((r) => [r.id, r]));
      expect(byId[newer.id]!.first_name).toBe('FromWebhook');
      expect(byId[deleted.id]!.deleted_at).not.toBeNull();
      const statuses = await database.db.query<{ status: string }>(`select status from clerk.webhook_events where id = $1`, [`backfill:user.updated:${newer.id}:${newer.updated_at}`]);
      expect(statuses.rows[0]!.status).toBe('stale');
      // A webhook of the same version as the backfilled data also wins (later envelope timestamp, then id).
      const same = syntheticEvent('user.updated', { ...fake.users[2]!, first_name: 'Backfilled' }, Date.now());
      await enqueueEvents(database.db, SCHEMA, [same]);
      await enqueueEvents(database.db, SCHEMA, [{ ...webhook('user.updated', { ...fake.users[2]!, first_name: 'Webhook' }, 'msg_same'), clerkTimestamp: fake.users[2]!.updated_at + 5 }]);
      await drain(database.db);
      const tie = await database.db.query<{ first_name: string }>('select first_name from clerk.users where id = $1', [fake.users[2]!.id]);
      expect(tie.rows[0]!.first_name).toBe('Webhook');
    });

    it('waits out 429s for Retry-After and retries 5xx answers', async () => {
      const waits: number[] = [];
      fake.rateLimit({ every: 4, retryAfterSeconds: 2 });
      fake.failNext(1, 503);
      const api = fakeApi(fake, { sleep: async (ms) => void waits.push(ms) });
      const result = await runBackfill({ db: database.db, schema: SCHEMA, api, pageSize: 10 });
      expect(result.complete).toBe(true);
      expect(fake.requests.filter((r) => r.status === 429).length).toBeGreaterThan(3);
      expect(waits.filter((ms) => ms >= 1900 && ms <= 2000).length).toBeGreaterThan(3);
      expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events`)).toBe(62);
    });

    it('spaces requests to the configured rate', async () => {
      let clock = 0;
      const api = fakeApi(fake, { requestsPerSecond: 5, now: () => clock, sleep: async (ms) => void (clock += ms) });
      await runBackfill({ db: database.db, schema: SCHEMA, api, resources: ['permissions', 'roles', 'invitations'] });
      // 3 requests at 5 per second: the last one goes out 400 ms after the first.
      expect(clock).toBe(400);
    });

    it('fails clearly on a refused key, and on a request that keeps failing', async () => {
      const refused = fakeApi(fake, { secretKey: 'sk_test_wrong' });
      await expect(runBackfill({ db: database.db, schema: SCHEMA, api: refused })).rejects.toMatchObject({ name: 'ClerkApiError', status: 401, code: 'authentication_invalid' });
      fake.failNext(10, 500);
      await expect(runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake, { maxAttempts: 3 }) })).rejects.toBeInstanceOf(ClerkApiError);
    });

    it('stops at the request budget and the next run continues where it stopped', async () => {
      const cursor = memoryCursorStore();
      const first = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake, { maxRequests: 5 }), cursor, pageSize: 10 });
      // permissions 1 + roles 1 + the first users page 2 (list and count): the next page would pass 5.
      expect(first).toMatchObject({ complete: false, stopped: 'budget', requests: 4 });
      expect(cursor.current).toBeDefined();
      const before = fake.requests.length;
      const second = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), cursor, pageSize: 10 });
      expect(second).toMatchObject({ complete: true, resumed: true });
      expect(cursor.current).toBeUndefined();
      const resumedUsers = fake.requests.slice(before).filter((r) => r.path === '/v1/users');
      expect(resumedUsers[0]!.query.offset).toBe('10');
      expect(second.counts.users).toEqual({ listed: 30, stored: 30 });
      expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events`)).toBe(62);
    });

    it('resumes after a crash mid-organizations without listing finished organizations again', async () => {
      const cursor = memoryCursorStore();
      let orgChildRequests = 0;
      fake.onRequest = (r) => {
        if (/^\/v1\/organizations\/[^/]+\/memberships$/.test(r.path) && ++orgChildRequests === 3) fake.failNext(2, 500);
      };
      await expect(runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake, { maxAttempts: 2 }), cursor, concurrency: 1 })).rejects.toBeInstanceOf(ClerkApiError);
      fake.onRequest = undefined;
      const saved = cursor.current!;
      expect(saved.resources[saved.step]).toBe('organizations');
      expect(saved.afterOrganization).toBe(fake.organizations[1]!.id);
      const before = fake.requests.length;
      const resumed = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), cursor, concurrency: 1 });
      expect(resumed.complete).toBe(true);
      const listed = fake.requests.slice(before).map((r) => r.path).filter((p) => p.endsWith('/memberships'));
      expect(listed).toEqual(fake.organizations.slice(2).map((o) => `/v1/organizations/${o.id}/memberships`));
      expect(await inboxByType(database.db)).toMatchObject({ 'organizationMembership.updated': 15, 'organization.updated': 5, 'user.updated': 30 });
    });

    it('stops between requests when interrupted, keeping the cursor', async () => {
      const cursor = memoryCursorStore();
      const controller = new AbortController();
      fake.onRequest = (r) => {
        if (r.path === '/v1/users' && r.query.offset === '10') controller.abort();
      };
      const result = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake, { signal: controller.signal }), cursor, pageSize: 10, signal: controller.signal });
      fake.onRequest = undefined;
      expect(result).toMatchObject({ complete: false, stopped: 'interrupted' });
      // The page in flight when ^C came was still stored.
      expect(cursor.current).toMatchObject({ offset: 20 });
      const resumed = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), cursor, pageSize: 10 });
      expect(resumed.complete).toBe(true);
      expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events where type = 'user.updated'`)).toBe(30);
    });
  });
}
