/**
 * Apply at intake (src/apply/intake.ts): where this process applies events anyway, the intake
 * transaction that stores new deliveries also applies them; what it cannot apply (your hooks'
 * events, a failing batch, a row held past the lock timeout) is stored pending for the worker.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drainEvents } from '../../src/apply/drain.js';
import { intakeApply, INTAKE_LOCK_TIMEOUT_MS } from '../../src/apply/intake.js';
import type { ApplyDeps } from '../../src/apply/apply-batch.js';
import { NO_SIDE_EFFECTS } from '../../src/apply/side-effects.js';
import { Worker } from '../../src/apply/worker.js';
import { optionsFromEnv } from '../../src/core/config.js';
import { InboxWriter } from '../../src/inbox/group-commit.js';
import { Hooks } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { post } from '../support/http.js';
import { silent, waitFor } from '../outbox/support.js';
import { item, T0, user } from './events.js';
import { delivery, services } from './services.js';

const organization = (id: string) => ({ id, object: 'organization', name: 'Acme', slug: `acme-${id}`, created_at: T0, updated_at: T0 });

describe('CLERK_SYNC_APPLY_AT_INTAKE', () => {
  it('turns apply at intake off and on, and refuses anything but a boolean', () => {
    expect(optionsFromEnv({ CLERK_SYNC_APPLY_AT_INTAKE: 'false' }).intake).toEqual({ apply: false });
    expect(optionsFromEnv({ CLERK_SYNC_APPLY_AT_INTAKE: 'on' }).intake).toEqual({ apply: true });
    expect(optionsFromEnv({}).intake).toBeUndefined();
    expect(() => optionsFromEnv({ CLERK_SYNC_APPLY_AT_INTAKE: 'sometimes' })).toThrow(/CLERK_SYNC_APPLY_AT_INTAKE must be true or false, got "sometimes"/);
  });
});

for (const backend of backends) {
  describe(`apply at intake (${backend.name})`, () => {
    let database: TestDatabase;
    let slack: FakeSlack;
    const served = services(() => ({ db: database.db, slackWebhookUrl: slack.url }));
    const make = served.make;

    beforeAll(async () => {
      database = await backend.create();
      slack = await startFakeSlack();
    });
    afterAll(async () => {
      await slack.close();
      await database.drop();
    });
    beforeEach(async () => {
      await served.closeAll();
      slack.reset();
      await database.db.query('truncate clerk.webhook_events, clerk.outbox, clerk.users, clerk.organizations');
    });

    const inbox = async (id: string) =>
      (await database.db.query<{ status: string; attempts: number; claimed_by: string | null; applied_at: Date | null; last_error: string | null }>(
        'select status, attempts, claimed_by, applied_at, last_error from clerk.webhook_events where id = $1',
        [id],
      )).rows[0];
    const users = async () => (await database.db.query<{ id: string }>('select id from clerk.users order by id')).rows.map((r) => r.id);
    const deps = (hooks?: Hooks): ApplyDeps => ({
      db: database.db,
      schema: 'clerk',
      logger: silent,
      context: { schema: 'clerk', deleteMode: 'soft', hooks },
      effects: NO_SIDE_EFFECTS,
      retry: { maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 100 },
    });

    it('applies a delivery in the transaction that stores it when a worker runs in the process, side effect included', async () => {
      const { sync, url } = await make();
      await sync.startWorker();
      const d = delivery('msg_1', 'user.created', user('user_1', 0));
      expect((await post(url, d.body, d.headers)).status).toBe(200);
      // Nothing to wait for: the 2xx came after the commit that applied it.
      expect(await inbox('msg_1')).toMatchObject({ status: 'applied', attempts: 1, claimed_by: null });
      expect((await inbox('msg_1'))!.applied_at).not.toBeNull();
      expect(await users()).toEqual(['user_1']);
      const outbox = (await database.db.query('select kind, key, event_id from clerk.outbox')).rows;
      expect(outbox).toEqual([{ kind: 'slack.signup', key: 'user_1', event_id: 'msg_1' }]);
      await waitFor('the Slack message', () => slack.messages.length === 1);
      // The same delivery again is a duplicate: stored once, applied once, posted once.
      expect((await post(url, d.body, d.headers)).json).toMatchObject({ duplicate: true });
      expect(await inbox('msg_1')).toMatchObject({ status: 'applied', attempts: 1 });
    });

    it('marks a delivery older than the stored row stale, as the worker would', async () => {
      const { sync, url } = await make();
      await sync.startWorker();
      const newer = delivery('msg_new', 'user.updated', user('user_1', 5));
      const older = delivery('msg_old', 'user.updated', user('user_1', 1));
      expect((await post(url, newer.body, newer.headers)).status).toBe(200);
      expect((await post(url, older.body, older.headers)).status).toBe(200);
      expect(await inbox('msg_new')).toMatchObject({ status: 'applied', claimed_by: null });
      expect(await inbox('msg_old')).toMatchObject({ status: 'stale', attempts: 1, claimed_by: null });
      expect((await database.db.query('select last_name from clerk.users')).rows).toEqual([{ last_name: 'Last 5' }]);
    });

    it('stores deliveries pending when no worker runs in this process, and when intake.apply is false', async () => {
      const receiverOnly = await make();
      const d = delivery('msg_1', 'user.created', user('user_1', 0));
      expect((await post(receiverOnly.url, d.body, d.headers)).status).toBe(200);
      expect(await inbox('msg_1')).toMatchObject({ status: 'pending', attempts: 0 });
      expect(await users()).toEqual([]);

      const off = await make({ intake: { apply: false } });
      await off.sync.startWorker();
      const e = delivery('msg_2', 'user.created', user('user_2', 0));
      expect((await post(off.url, e.body, e.headers)).status).toBe(200);
      // The worker claims both (claimed_by is set): neither was applied at intake.
      await waitFor('applied by the worker', async () => (await inbox('msg_2'))?.status === 'applied' && (await inbox('msg_1'))?.status === 'applied');
      expect((await inbox('msg_1'))!.claimed_by).not.toBeNull();
      expect((await inbox('msg_2'))!.claimed_by).not.toBeNull();
    });

    it('stops applying at intake once the worker of this process stops', async () => {
      const { sync, url } = await make();
      const worker = await sync.startWorker();
      await worker.stop();
      const d = delivery('msg_1', 'user.created', user('user_1', 0));
      expect((await post(url, d.body, d.headers)).status).toBe(200);
      expect(await inbox('msg_1')).toMatchObject({ status: 'pending' });
    });

    it('leaves the events one of your hooks listens to to the worker, so your code never runs in a webhook request', async () => {
      const { sync, url } = await make();
      const seen: string[] = [];
      sync.hooks.on('user.created', async (event) => {
        seen.push(event.id);
      });
      await sync.startWorker();
      const hooked = delivery('msg_user', 'user.created', user('user_1', 0));
      const plain = delivery('msg_org', 'organization.created', organization('org_1'));
      expect((await post(url, hooked.body, hooked.headers)).status).toBe(200);
      expect((await post(url, plain.body, plain.headers)).status).toBe(200);
      expect(await inbox('msg_org')).toMatchObject({ status: 'applied', claimed_by: null });
      await waitFor('the hooked event applied by the worker', async () => (await inbox('msg_user'))?.status === 'applied');
      expect((await inbox('msg_user'))!.claimed_by).not.toBeNull();
      expect(seen).toEqual(['msg_user']);
      await waitFor('the Slack message', () => slack.messages.length === 1);
    });

    it('scrub mode: a deletion applied at intake erases the user, and the payloads stored with it', async () => {
      const { sync, url } = await make({ deleteMode: 'scrub' });
      await sync.startWorker();
      const created = delivery('msg_created', 'user.created', user('user_1', 0));
      const deleted = delivery('msg_deleted', 'user.deleted', { id: 'user_1', object: 'user', deleted: true });
      expect((await post(url, created.body, created.headers)).status).toBe(200);
      expect((await post(url, deleted.body, deleted.headers)).status).toBe(200);
      expect(await inbox('msg_deleted')).toMatchObject({ status: 'applied', claimed_by: null });
      const row = (await database.db.query<{ first_name: string | null; deleted_at: Date | null }>('select first_name, deleted_at from clerk.users')).rows;
      expect(row).toHaveLength(1);
      expect(row[0]!.first_name).toBeNull();
      expect(row[0]!.deleted_at).not.toBeNull();
      const payload = (await database.db.query<{ payload: unknown }>(`select payload from clerk.webhook_events where id = 'msg_created'`)).rows[0]!.payload;
      expect(JSON.stringify(payload)).not.toContain('user_1@example.com');
    });

    it('inline mode: applied at intake, and the side effect is still sent in the request', async () => {
      const { url } = await make({ mode: 'inline' });
      const d = delivery('msg_1', 'user.created', user('user_1', 0));
      expect((await post(url, d.body, d.headers)).status).toBe(200);
      expect(slack.messages).toHaveLength(1);
      expect(await inbox('msg_1')).toMatchObject({ status: 'applied', attempts: 1, claimed_by: null });
      expect((await database.db.query('select status from clerk.outbox')).rows).toEqual([{ status: 'sent' }]);
    });

    it('stores a batch whose apply fails again as pending: the worker dead-letters the bad event and applies the rest', async () => {
      // One write in flight: the first delivery goes alone, the next four together.
      const writer = new InboxWriter(database.db, 'clerk', { maxInFlight: 1 }, () => intakeApply(async () => deps()));
      const bad = item({ id: 'msg_bad', type: 'user.created', data: { object: 'user' } });
      const good = (n: number) => item({ id: `msg_${n}`, type: 'user.created', data: user(`user_${n}`, 0) });
      const results = await Promise.all([writer.write(good(0)), writer.write(good(1)), writer.write(bad), writer.write(good(2)), writer.write(good(3))]);
      expect(results).toEqual(['applied', 'stored', 'stored', 'stored', 'stored']);
      expect(await users()).toEqual(['user_0']);
      expect(await inbox('msg_2')).toMatchObject({ status: 'pending', attempts: 0, applied_at: null });
      const drained = await drainEvents(deps(), { batchSize: 100, leaseMs: 5000 });
      expect(drained).toMatchObject({ applied: 3, dead: 1 });
      expect(await inbox('msg_bad')).toMatchObject({ status: 'dead' });
      expect((await inbox('msg_bad'))!.last_error).toMatch(/data\.id is missing/);
      expect(await users()).toEqual(['user_0', 'user_1', 'user_2', 'user_3']);
    });

    it('property: whatever the order, duplication and interleaving with a worker, each user ends at its newest version and each delivery is stored once', async () => {
      const USERS = ['user_1', 'user_2', 'user_3'];
      // Versions are distinct (the index), so the newest is unambiguous; user.created is hooked
      // (left to the worker), user.updated is applied at intake, a poison event breaks its batch.
      const histories = fc
        .array(fc.record({ user: fc.constantFrom(...USERS), created: fc.boolean() }), { minLength: 1, maxLength: 20 })
        .chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.array(fc.nat({ max: events.length - 1 }), { maxLength: events.length }).chain((repeats) => {
              const all = [...events.keys(), ...repeats];
              return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
            }),
            fc.boolean(),
          ),
        );
      await fc.assert(
        fc.asyncProperty(histories, async ([events, order, poison]) => {
          await database.db.query('truncate clerk.webhook_events, clerk.users');
          const hooks = new Hooks().on('user.created', async () => {});
          const worker = new Worker({ ...deps(hooks), pollIntervalMs: 20, retryBaseMs: 10, retryMaxMs: 50 });
          worker.start();
          const writer = new InboxWriter(database.db, 'clerk', { maxInFlight: 2 }, () => intakeApply(async () => deps(hooks), hooks));
          const deliveries = order.map((i) => {
            const e = events[i]!;
            return item({ id: `msg_${i}`, type: e.created ? 'user.created' : 'user.updated', data: user(e.user, i + 1) });
          });
          if (poison) deliveries.splice(deliveries.length >> 1, 0, item({ id: 'msg_poison', type: 'user.updated', data: { object: 'user' } }));
          try {
            const results = await Promise.all(deliveries.map((d) => writer.write(d)));
            // Exactly one delivery of each id is stored; which one depends on which write commits first.
            const stored = deliveries.filter((_, k) => results[k] !== 'duplicate').map((d) => d.id);
            expect(stored.sort()).toEqual([...new Set(deliveries.map((d) => d.id))].sort());
            await waitFor('everything applied', async () => (await database.db.query<{ n: number }>("select count(*)::int n from clerk.webhook_events where status in ('pending', 'failed')")).rows[0]!.n === 0);
          } finally {
            await worker.stop({ timeoutMs: 1000 });
          }
          const newest = new Map<string, number>();
          events.forEach((e, i) => newest.set(e.user, i + 1));
          const rows = (await database.db.query<{ id: string; last_name: string }>('select id, last_name from clerk.users order by id')).rows;
          expect(rows).toEqual([...newest].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, v]) => ({ id, last_name: `Last ${v}` })));
          const statuses = (await database.db.query<{ id: string; status: string }>('select id, status from clerk.webhook_events')).rows;
          expect(statuses.map((r) => r.id).sort()).toEqual([...new Set(deliveries.map((d) => d.id))].sort());
          for (const r of statuses) expect(r.id === 'msg_poison' ? ['dead'] : ['applied', 'stale'], r.id).toContain(r.status);
        }),
        { numRuns: 25 },
      );
    }, 120_000);

    if (backend.name === 'postgres') {
      it(`does not wait on a row held by another transaction longer than ${INTAKE_LOCK_TIMEOUT_MS} ms: the delivery is stored for the worker`, async () => {
        const writer = new InboxWriter(database.db, 'clerk', {}, () => intakeApply(async () => deps()));
        expect(await writer.write(item({ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }))).toBe('applied');
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holder = database.db.transaction(async (tx) => {
          await tx.query(`select id from clerk.users where id = 'user_1' for update`);
          locked();
          await held;
        });
        await isLocked;
        const started = performance.now();
        const result = await writer.write(item({ id: 'msg_2', type: 'user.updated', data: user('user_1', 1) }));
        const waited = performance.now() - started;
        release();
        await holder;
        expect(result).toBe('stored');
        expect(waited).toBeGreaterThanOrEqual(INTAKE_LOCK_TIMEOUT_MS * 0.9);
        expect(waited).toBeLessThan(INTAKE_LOCK_TIMEOUT_MS * 5);
        expect(await inbox('msg_2')).toMatchObject({ status: 'pending' });
        expect(await drainEvents(deps(), { batchSize: 100, leaseMs: 5000 })).toMatchObject({ applied: 1 });
        expect((await database.db.query('select last_name from clerk.users')).rows).toEqual([{ last_name: 'Last 1' }]);
      });
    }
  });
}
