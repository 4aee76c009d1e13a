/**
 * Backfill against the fake Backend API, on every database backend: what it stores (the whole
 * catalog, every invitation status), with how many requests, that it goes through the same
 * ordering rules as webhooks (never overwriting newer data, never resurrecting a tombstone),
 * fires no side effects, honours 429/Retry-After and the request budget, falls back to one
 * organization at a time where the instance-wide listings answer 404, refuses broken answers,
 * and resumes from the state kept in the database after a failure or an interruption.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enqueueEvents } from '../../src/inbox/enqueue.js';
import { ClerkApiError } from '../../src/backfill/clerk-api.js';
import { applyBatch } from '../../src/apply/apply-batch.js';
import { applyAtIntake } from '../../src/apply/intake.js';
import { applyPendingBackfill } from '../../src/backfill/apply-pending.js';
import { runBackfill } from '../../src/backfill/run.js';
import { BackfillState } from '../../src/backfill/state.js';
import { syntheticEvent } from '../../src/backfill/synthetic.js';
import { FUTURE_TOLERANCE_MS } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeClerkApi, type FakeClerkApi } from '../support/fake-clerk-api.js';
import { SCHEMA, applyDeps, count, drain, expectMirrors, fakeApi, inboxByType, minimumRequests } from './support.js';

const SEED = {
  users: 30, organizations: 5, membershipsPerOrganization: 3, invitationsPerOrganization: 1, invitations: 2, revokedInvitations: 2, roles: 2, permissions: 3,
  domainsPerOrganization: 1, waitlistEntries: 4, subscriptionItems: 3,
};
/** Entities in SEED: 30 + 5 + 15 + (5 + 2) + 5 + (2 + 2) + 2 + 3 + 4 + 3. */
const ENTITIES = 78;

function webhook(type: string, data: Record<string, unknown>, id: string) {
  const payload = JSON.stringify({ type, object: 'event', data, timestamp: Number(data.updated_at ?? Date.now()) });
  return { id, type, clerkTimestamp: Number(data.updated_at ?? Date.now()), instanceId: 'ins_1', payload, source: 'webhook' as const };
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
      for (const t of ['webhook_events', 'outbox', 'users', 'organizations', 'organization_memberships', 'organization_invitations', 'invitations', 'roles', 'permissions', 'organization_domains', 'waitlist_entries', 'subscription_items', 'backfill_runs']) {
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
        'invitation.created': 4,
        'organization.updated': 5,
        'organizationDomain.updated': 5,
        'organizationInvitation.created': 7,
        'organizationMembership.updated': 15,
        'permission.updated': 3,
        'role.updated': 2,
        'subscriptionItem.updated': 3,
        'user.updated': 30,
        'waitlistEntry.updated': 4,
      });
      expect(result.counts.users).toEqual({ listed: 30, stored: 30 });
      const user = fake.users[0]!;
      const row = (await database.db.query<{ id: string; payload: any; status: string; clerk_timestamp: string }>(`select * from clerk.webhook_events where id = $1`, [`backfill:user.updated:${user.id}:${user.updated_at}`])).rows[0]!;
      expect(row.payload).toMatchObject({ type: 'user.updated', object: 'event', timestamp: user.updated_at, data: { id: user.id, object: 'user', email_addresses: user.email_addresses } });
      expect(Number(row.clerk_timestamp)).toBe(user.updated_at);
      // Pages of at most the page size, oldest first, until the reported total.
      const userPages = fake.requests.filter((r) => r.path === '/v1/users');
      expect(userPages.map((r) => [r.query.limit, r.query.offset, r.query.order_by])).toEqual([
        ['10', '0', '+created_at'],
        ['10', '10', '+created_at'],
        ['10', '20', '+created_at'],
      ]);

      const drained = await drain(database.db);
      expect(drained.dead + drained.failed).toBe(0);
      expect(await count(database.db, 'select count(*)::int as n from clerk.users where deleted_at is null')).toBe(30);
      expect(await count(database.db, 'select count(*)::int as n from clerk.organization_memberships')).toBe(15);
      expect(await count(database.db, 'select count(*)::int as n from clerk.roles')).toBe(2);
      expect(await count(database.db, 'select count(*)::int as n from clerk.permissions')).toBe(3);
      await expectMirrors(database.db, fake, expect);
      // Revoked invitations are listed too (Clerk leaves them out unless asked for by status).
      expect(await count(database.db, `select count(*)::int as n from clerk.invitations where status = 'revoked'`)).toBe(2);
      expect(await count(database.db, `select count(*)::int as n from clerk.organization_invitations where status = 'revoked'`)).toBe(2);
      const email = await database.db.query<{ primary_email: string }>('select primary_email from clerk.users where id = $1', [user.id]);
      expect(email.rows[0]!.primary_email).toBe((user.email_addresses as any)[0].email_address);
      // Welcome emails and Slack notices are on, yet backfilled sign-ups fire none.
      expect(await count(database.db, 'select count(*)::int as n from clerk.outbox')).toBe(0);
    });

    it('lists memberships, organization invitations and domains for the whole instance: requests within 1.1x the minimum', async () => {
      fake.seed({ users: 1200, organizations: 700, membershipsPerOrganization: 2 });
      const result = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake) });
      expect(result.complete).toBe(true);
      expect(result.perOrganization).toEqual([]);
      expect(fake.requests.some((r) => /^\/v1\/organizations\/[^/]+\//.test(r.path))).toBe(false);
      expect(result.requests).toBeLessThanOrEqual(Math.ceil(1.1 * minimumRequests(fake)));
      expect(result.counts.memberships).toEqual({ listed: 15 + 1400, stored: 15 + 1400 });
    });

    it('falls back to one organization at a time where the instance-wide listings answer 404, and resumes inside it', async () => {
      fake.instanceWideNotFound = true;
      const state = new BackfillState(database.db, SCHEMA);
      let perOrganization = 0;
      fake.onRequest = (r) => {
        if (/^\/v1\/organizations\/[^/]+\/memberships$/.test(r.path) && ++perOrganization === 3) fake.failNext(2, 500);
      };
      await expect(runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake, { maxAttempts: 2 }), state, concurrency: 1 })).rejects.toBeInstanceOf(ClerkApiError);
      fake.onRequest = undefined;
      const before = fake.requests.length;
      const resumed = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), state, concurrency: 1 });
      expect(resumed).toMatchObject({ complete: true, resumed: true });
      expect(resumed.perOrganization).toEqual(['memberships', 'organizationInvitations:pending', 'organizationInvitations:accepted', 'organizationInvitations:revoked', 'organizationInvitations:expired', 'organizationDomains']);
      // The two organizations done before the failure are not listed again.
      const listed = fake.requests.slice(before).map((r) => r.path).filter((p) => p.endsWith('/memberships'));
      expect(listed).toEqual(fake.organizations.slice(2).map((o) => `/v1/organizations/${o.id}/memberships`));
      await drain(database.db);
      await expectMirrors(database.db, fake, expect);
    });

    it('refuses a broken answer (not JSON, no data, an object without id): stores nothing of it, keeps its place', async () => {
      const state = new BackfillState(database.db, SCHEMA);
      const messages: string[] = [];
      for (const kind of ['not_json', 'no_data', 'no_id'] as const) {
        fake.onRequest = (r) => {
          if (r.path === '/v1/users' && r.query.offset === '10') {
            fake.corruptNext(kind);
            fake.onRequest = undefined;
          }
        };
        const error = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), state, pageSize: 10 }).catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'ClerkApiError', code: 'invalid_response' });
        messages.push((error as Error).message);
        expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events where type = 'user.updated'`)).toBe(10);
      }
      expect(messages[0]).toContain('not JSON');
      expect(messages[1]).toContain('no data array');
      expect(messages[2]).toContain('has no id');
      const done = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), state, pageSize: 10 });
      expect(done).toMatchObject({ complete: true, resumed: true });
      expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events`)).toBe(ENTITIES);
    });

    it('refuses a second backfill while one holds the run, and takes over a released one', async () => {
      const first = new BackfillState(database.db, SCHEMA);
      const run = await first.begin(['users'], []);
      const second = new BackfillState(database.db, SCHEMA);
      await expect(runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), state: second, resources: ['users'] })).rejects.toMatchObject({ code: 'backfill_in_progress' });
      await expect(runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), state: second })).rejects.toMatchObject({ code: 'backfill_in_progress' });
      // Reconcile checks the same before it lists anything.
      await expect(second.refuseIfRunning()).rejects.toMatchObject({ code: 'backfill_in_progress' });
      await first.release(run.id);
      await second.refuseIfRunning();
      const taken = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), state: second, resources: ['users'] });
      expect(taken).toMatchObject({ complete: true, resumed: true, runId: run.id });
    });

    it('applies each page as it stores it; a page whose apply fails is stored pending and applied event by event', async () => {
      fake.updateUser(fake.users[13]!.id, { created_at: 1e17 }); // no date holds it: this user's row cannot be written
      const state = new BackfillState(database.db, SCHEMA);
      const deps = applyDeps(database.db, { welcomeEmail: false, adminWelcomeEmail: false, slackSignup: false, emailRelay: false });
      const applied = await runBackfill({
        db: database.db, schema: SCHEMA, api: fakeApi(fake), state, pageSize: 10, resources: ['users', 'organizations', 'memberships'],
        applyPage: async (tx, items) => void (await applyAtIntake(deps, tx, items)),
      });
      expect(applied.complete).toBe(true);
      // Pages other than the second users page were applied as they were stored.
      const byStatus = await database.db.query<{ status: string; n: number }>(`select status, count(*)::int as n from clerk.webhook_events group by status order by status`);
      expect(byStatus.rows).toEqual([{ status: 'applied', n: 40 }, { status: 'pending', n: 10 }]);
      const pass = await applyPendingBackfill({ db: database.db, schema: SCHEMA, applyBatch: async (ids) => (await applyBatch(deps, ids)).counts });
      // A time no date holds is a data error: dead at once, with its reason.
      expect(pass).toMatchObject({ applied: 9, dead: 1 });
      expect(await count(database.db, 'select count(*)::int as n from clerk.users')).toBe(29);
      expect(await count(database.db, 'select count(*)::int as n from clerk.organization_memberships')).toBe(15);
      const failed = await database.db.query<{ id: string; last_error: string }>(`select id, last_error from clerk.webhook_events where status = 'dead'`);
      expect(failed.rows[0]!.id).toContain(fake.users[13]!.id);
      expect(failed.rows[0]!.last_error).toBeTruthy();
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

    it('repairs a row a far-future version froze, and bounds a far-future updated_at Clerk itself reports', async () => {
      const YEAR_9999 = 253_402_300_799_000;
      const [frozen, future] = [fake.users[0]!, fake.users[1]!];
      await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), resources: ['users'] });
      await drain(database.db);
      // The key a backfill stored before versions were bounded, for an entity then stamped year 9999.
      await database.db.query('update clerk.users set first_name = $1, _version = $2, _event_ts = $2, _event_id = $3 where id = $4', ['Stuck', YEAR_9999, `backfill:user.updated:${frozen.id}:${YEAR_9999}`, frozen.id]);
      fake.updateUser(frozen.id, { first_name: 'Repaired' });
      fake.updateUser(future.id, { first_name: 'Future' });
      future.updated_at = YEAR_9999;
      const at = Date.now();
      const run = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), resources: ['users'], now: () => at });
      expect(run.counts.users).toEqual({ listed: 30, stored: 2 });
      await drain(database.db);
      const read = async (id: string) => (await database.db.query<{ first_name: string; _version: string; _event_ts: string }>('select first_name, _version::text, _event_ts::text from clerk.users where id = $1', [id])).rows[0]!;
      expect(await read(frozen.id)).toMatchObject({ first_name: 'Repaired', _version: String(frozen.updated_at) });
      expect(await read(future.id)).toMatchObject({ first_name: 'Future', _version: String(at + FUTURE_TOLERANCE_MS), _event_ts: String(at) });
      // A row frozen while Clerk's entity stayed unchanged: the next backfill finds its event
      // already stored, and applies it again rather than skipping it as a duplicate.
      const unchanged = fake.users[3]!;
      await database.db.query('update clerk.users set first_name = $1, _version = $2, _event_ts = $2 where id = $3', ['Stuck', YEAR_9999, unchanged.id]);
      const again = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), resources: ['users'], now: () => at });
      expect(again.counts.users).toEqual({ listed: 30, stored: 1 });
      await drain(database.db);
      expect(await read(unchanged.id)).toMatchObject({ first_name: unchanged.first_name, _version: String(unchanged.updated_at) });
      // The bounded version holds only until a real update past it.
      await enqueueEvents(database.db, SCHEMA, [webhook('user.updated', { ...future, first_name: 'Later', updated_at: at + FUTURE_TOLERANCE_MS + 1 }, 'msg_later')]);
      await drain(database.db);
      expect((await read(future.id)).first_name).toBe('Later');
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
      expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events`)).toBe(ENTITIES);
    });

    it('spaces requests to the configured rate', async () => {
      let clock = 0;
      const api = fakeApi(fake, { requestsPerSecond: 5, now: () => clock, sleep: async (ms) => void (clock += ms) });
      await runBackfill({ db: database.db, schema: SCHEMA, api, resources: ['permissions', 'roles', 'waitlistEntries'] });
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
      const state = new BackfillState(database.db, SCHEMA);
      const first = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake, { maxRequests: 5 }), state, pageSize: 10 });
      // permissions 1 + roles 1 + users count 1 + two users pages: the next page would pass 5.
      expect(first).toMatchObject({ complete: false, stopped: 'budget', requests: 5 });
      const saved = await database.db.query<{ listing: string; position: number }>(`select listing, position from clerk.backfill_state where run_id = $1 and position > 0 order by listing`, [first.runId]);
      expect(saved.rows).toEqual([{ listing: 'permissions', position: 3 }, { listing: 'roles', position: 2 }, { listing: 'users', position: 20 }]);
      const before = fake.requests.length;
      const second = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), state, pageSize: 10 });
      expect(second).toMatchObject({ complete: true, resumed: true, runId: first.runId });
      const resumedUsers = fake.requests.slice(before).filter((r) => r.path === '/v1/users');
      expect(resumedUsers[0]!.query.offset).toBe('20');
      expect(second.counts.users).toEqual({ listed: 30, stored: 30 });
      expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events`)).toBe(ENTITIES);
      const run = await database.db.query<{ status: string; requests: number }>(`select status, requests from clerk.backfill_runs where id = $1`, [first.runId]);
      expect(run.rows[0]).toMatchObject({ status: 'complete' });
    });

    it('stops between requests when interrupted, keeping its place', async () => {
      const state = new BackfillState(database.db, SCHEMA);
      const controller = new AbortController();
      fake.onRequest = (r) => {
        if (r.path === '/v1/users' && r.query.offset === '10') controller.abort();
      };
      const result = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake, { signal: controller.signal }), state, pageSize: 10, signal: controller.signal });
      fake.onRequest = undefined;
      expect(result).toMatchObject({ complete: false, stopped: 'interrupted' });
      // The page in flight when ^C came was still stored.
      const users = await database.db.query<{ position: number }>(`select position from clerk.backfill_state where run_id = $1 and listing = 'users'`, [result.runId]);
      expect(users.rows[0]!.position).toBe(20);
      const resumed = await runBackfill({ db: database.db, schema: SCHEMA, api: fakeApi(fake), state, pageSize: 10 });
      expect(resumed.complete).toBe(true);
      expect(await count(database.db, `select count(*)::int as n from clerk.webhook_events where type = 'user.updated'`)).toBe(30);
    });
  });
}
