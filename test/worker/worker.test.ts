/**
 * The apply worker on every database backend: batches, isolation of a bad event, version order,
 * retries with backoff, dead letters with their reason, replay and drain, leases of dead
 * workers, graceful stop, and the built-in side effects written once per reason.
 * @see https://github.com/clerk-sync/clerk-sync/issues/5
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/core/db.js';
import { claimEvents } from '../../src/apply/claim.js';
import { drainEvents } from '../../src/apply/drain.js';
import { applyInline } from '../../src/apply/inline.js';
import { replayEvents } from '../../src/apply/replay.js';
import { NO_SIDE_EFFECTS, type SideEffectRules } from '../../src/apply/side-effects.js';
import type { ApplyDeps } from '../../src/apply/apply-batch.js';
import { Worker, type WorkerOptions } from '../../src/apply/worker.js';
import { Hooks } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { silent, sleep, waitFor } from '../outbox/support.js';
import { membership, store, T0, user, type TestEvent } from './events.js';

const ALL_EFFECTS: SideEffectRules = { welcomeEmail: true, adminWelcomeEmail: true, slackSignup: true, emailRelay: true };

for (const backend of backends) {
  describe(`apply worker (${backend.name})`, () => {
    let database: TestDatabase;
    let db: Db;
    let workers: Worker[] = [];

    beforeAll(async () => {
      database = await backend.create();
      db = database.db;
    });
    afterAll(async () => {
      await database.drop();
    });
    beforeEach(async () => {
      for (const w of workers) await w.stop({ timeoutMs: 1000 });
      workers = [];
      await db.query('truncate clerk.webhook_events, clerk.outbox, clerk.users, clerk.organization_memberships, clerk.emails');
    });

    const deps = (over: Partial<ApplyDeps> = {}): ApplyDeps => ({
      db,
      schema: 'clerk',
      logger: silent,
      context: { schema: 'clerk', deleteMode: 'soft' },
      effects: NO_SIDE_EFFECTS,
      retry: { maxAttempts: 10, retryBaseMs: 10, retryMaxMs: 1000 },
      ...over,
    });
    const start = (over: Partial<WorkerOptions> = {}) => {
      const w = new Worker({ db, schema: 'clerk', logger: silent, context: { schema: 'clerk', deleteMode: 'soft' }, effects: NO_SIDE_EFFECTS, pollIntervalMs: 50, retryBaseMs: 10, retryMaxMs: 1000, ...over });
      w.start();
      workers.push(w);
      return w;
    };
    /** The test database, with some of its methods replaced (to inject failures); close() leaves it open. */
    const dbWith = (over: Partial<Pick<Db, 'query' | 'transaction'>>): Db => ({
      kind: db.kind,
      query: (text, params) => db.query(text, params),
      transaction: (fn) => db.transaction(fn),
      listen: (channel, cb) => db.listen(channel, cb),
      close: async () => {},
      ...over,
    });
    const statuses = async () =>
      Object.fromEntries((await db.query<{ id: string; status: string }>('select id, status from clerk.webhook_events order by id')).rows.map((r) => [r.id, r.status]));
    const event = async (id: string) =>
      (await db.query<{ status: string; attempts: number; last_error: string | null; applied_at: Date | null }>('select * from clerk.webhook_events where id = $1', [id])).rows[0]!;
    const allSettled = () =>
      waitFor('no pending events', async () => (await db.query<{ n: number }>("select count(*)::int n from clerk.webhook_events where status in ('pending', 'failed')")).rows[0]!.n === 0);
    const outbox = async () => (await db.query<{ kind: string; key: string; event_id: string }>('select kind, key, event_id from clerk.outbox order by kind, key')).rows;

    it('applies pending events in batches and marks each with its outcome', async () => {
      const events: TestEvent[] = [];
      for (let i = 0; i < 250; i++) events.push({ id: `msg_${String(i).padStart(4, '0')}`, type: 'user.created', data: user(`user_${i}`, 0) });
      events.push({ id: 'msg_unknown', type: 'brand.new.event', data: { id: 'x_1' } });
      await store(db, events);
      const w = start({ batchSize: 100 });
      await allSettled();
      const s = await statuses();
      expect(Object.values(s).filter((v) => v === 'applied')).toHaveLength(250);
      expect(s.msg_unknown).toBe('ignored');
      expect((await db.query<{ n: number }>('select count(*)::int n from clerk.users')).rows[0]!.n).toBe(250);
      expect(w.stats.batches).toBeGreaterThanOrEqual(3);
      expect((await event('msg_0000')).applied_at).toBeInstanceOf(Date);
      expect((await event('msg_0000')).attempts).toBe(1);
    });

    it('wakes on the NOTIFY of intake without waiting for its poll', async () => {
      const w = start({ pollIntervalMs: 60_000 });
      await waitFor('listening', () => w.listening, 10_000);
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      await waitFor('applied', async () => (await event('msg_1'))?.status === 'applied', 3000);
    });

    it('isolates a bad payload: the rest of its batch is applied, it is dead with its reason', async () => {
      const events: TestEvent[] = [];
      for (let i = 0; i < 20; i++) events.push({ id: `msg_${i}`, type: 'user.created', data: user(`user_${i}`, 0) });
      events.push({ id: 'msg_bad', type: 'organizationMembership.created', data: { id: 'orgmem_1', role: 'org:member' } });
      await store(db, events);
      start({ batchSize: 50 });
      await allSettled();
      const bad = await event('msg_bad');
      expect(bad.status).toBe('dead');
      expect(bad.attempts).toBe(1);
      expect(bad.last_error).toMatch(/^PayloadError: organizationMembership.created: organization/);
      expect(Object.values(await statuses()).filter((v) => v === 'applied')).toHaveLength(20);
    });

    it('writes only the newest version of an entity in a batch, and runs hooks in version order', async () => {
      await store(db, [
        { id: 'msg_c', type: 'user.updated', data: user('user_1', 30) },
        { id: 'msg_a', type: 'user.created', data: user('user_1', 10) },
        { id: 'msg_b', type: 'user.updated', data: user('user_1', 20) },
      ]);
      const seen: string[] = [];
      // One loop, so the three land in one batch (two loops may split them between their claims).
      start({ concurrency: 1, context: { schema: 'clerk', deleteMode: 'soft', hooks: new Hooks().on('*', (e) => void seen.push(e.id)) } });
      await allSettled();
      expect(seen).toEqual(['msg_a', 'msg_b', 'msg_c']);
      // The two older versions lose to the newest within the batch, as they would one by one after it.
      expect(await statuses()).toEqual({ msg_a: 'stale', msg_b: 'stale', msg_c: 'applied' });
      expect((await db.query<{ last_name: string }>('select last_name from clerk.users')).rows[0]!.last_name).toBe('Last 30');
    });

    it('a hook that fails three times then succeeds: applied after retries with backoff', async () => {
      let calls = 0;
      const hooks = new Hooks().on('user.created', () => {
        calls++;
        if (calls <= 3) throw Object.assign(new Error(`CRM timeout (${calls})`), { code: 'ETIMEDOUT' });
      });
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      const started = Date.now();
      start({ context: { schema: 'clerk', deleteMode: 'soft', hooks }, retryBaseMs: 40 });
      await waitFor('applied', async () => (await event('msg_1')).status === 'applied');
      const e = await event('msg_1');
      expect(calls).toBe(4);
      expect(e.attempts).toBe(4);
      expect(e.last_error).toBeNull();
      // Equal jitter: at least half of 40 + 80 + 160 ms.
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect((await db.query('select 1 from clerk.users')).rows).toHaveLength(1);
    });

    it('a hook that always fails: dead with its reason after maxAttempts; replayed after the fix, it is applied', async () => {
      let broken = true;
      let calls = 0;
      const hooks = new Hooks().on('user.created', async (_e, tx: Queryable) => {
        calls++;
        await tx.query('select 1');
        if (broken) throw new Error('missing column crm_id');
      });
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      start({ context: { schema: 'clerk', deleteMode: 'soft', hooks }, maxAttempts: 4 });
      await waitFor('dead', async () => (await event('msg_1')).status === 'dead');
      expect(await event('msg_1')).toMatchObject({ attempts: 4, last_error: 'Error: missing column crm_id' });
      expect(calls).toBe(4);
      // Nothing of the failed applies is left behind.
      expect((await db.query('select 1 from clerk.users')).rows).toHaveLength(0);
      await sleep(200);
      expect(calls).toBe(4);
      broken = false;
      expect(await replayEvents(db, 'clerk', { statuses: ['dead'] })).toBe(1);
      await waitFor('applied', async () => (await event('msg_1')).status === 'applied');
      expect(await event('msg_1')).toMatchObject({ attempts: 1, last_error: null });
    });

    it('an error marked retryable: false is dead at once', async () => {
      const hooks = new Hooks().on('user.created', () => {
        throw Object.assign(new Error('user rejected by policy'), { retryable: false });
      });
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      start({ context: { schema: 'clerk', deleteMode: 'soft', hooks } });
      await waitFor('dead', async () => (await event('msg_1')).status === 'dead');
      expect((await event('msg_1')).attempts).toBe(1);
    });

    it('a data error (a time no date holds) is dead at once with its reason, not retried 10 times', async () => {
      await store(db, [
        { id: 'msg_1', type: 'user.created', data: { ...user('user_1', 0), last_sign_in_at: 1e17 } },
        { id: 'msg_2', type: 'user.created', data: user('user_2', 0) },
      ]);
      start();
      await waitFor('dead', async () => (await event('msg_1')).status === 'dead');
      expect((await event('msg_1')).last_error).toMatch(/RangeError/);
      expect((await event('msg_1')).attempts).toBe(1);
      await waitFor('applied', async () => (await event('msg_2')).status === 'applied');
    });

    it('an error with SQLSTATE class 22 (data exception) is dead at once', async () => {
      const hooks = new Hooks().on('user.created', () => {
        throw Object.assign(new Error('value out of range for type integer'), { code: '22003' });
      });
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      start({ context: { schema: 'clerk', deleteMode: 'soft', hooks } });
      await waitFor('dead', async () => (await event('msg_1')).status === 'dead');
      expect((await event('msg_1')).attempts).toBe(1);
    });

    it('events claimed by a worker that died come back after its lease', async () => {
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      expect(await claimEvents(db, 'clerk', { limit: 10, leaseMs: 400, maxAttempts: 10 })).toHaveLength(1);
      start();
      await sleep(200);
      expect((await event('msg_1')).status).toBe('pending');
      await waitFor('applied', async () => (await event('msg_1')).status === 'applied');
      expect((await event('msg_1')).attempts).toBe(2);
    });

    it('events a database outage stranded mid-batch are handed back when it returns, not after the lease', async () => {
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      // The database "goes away" for the apply transaction and the reachability probe, then comes back.
      let down = true;
      const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      const flaky = dbWith({
        query: (text, params) => (down && text === 'select 1' ? Promise.reject(refused()) : db.query(text, params)),
        transaction: (fn) => (down ? Promise.reject(refused()) : db.transaction(fn)),
      });
      const w = start({ db: flaky, leaseMs: 60_000, concurrency: 1 });
      await waitFor('claimed', async () => (await event('msg_1')).attempts === 1);
      await sleep(200);
      expect((await event('msg_1')).status).toBe('pending');
      down = false;
      await waitFor('applied well before the 60 s lease', async () => (await event('msg_1')).status === 'applied', 5000);
      expect(w.stats.applied).toBe(1);
    });

    it('a claim that committed but whose answer was lost is handed back when the database returns, not after the lease', async () => {
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      // The first claim runs on the server, then the connection "dies" before its answer arrives;
      // the database stays unreachable for a few more rounds.
      let claims = 0;
      const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      const lossy = dbWith({
        query: async (text, params) => {
          if (!text.includes('update "clerk".webhook_events e')) return db.query(text, params);
          claims++;
          if (claims === 1) {
            await db.query(text, params);
            throw reset();
          }
          if (claims <= 3) throw reset();
          return db.query(text, params);
        },
      });
      const w = start({ db: lossy, leaseMs: 60_000, concurrency: 1 });
      await waitFor('applied well before the 60 s lease', async () => (await event('msg_1')).status === 'applied', 10_000);
      expect(w.stats.applied).toBe(1);
      // The lost claim's attempt was given back: one attempt, the one that applied it.
      expect((await event('msg_1')).attempts).toBe(1);
    });

    it('an event whose every claim died with its worker ends dead, not retried forever', async () => {
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      for (let i = 0; i < 3; i++) expect(await claimEvents(db, 'clerk', { limit: 10, leaseMs: 0, maxAttempts: 3 })).toEqual([{ id: 'msg_1', attempts: i + 1, status: 'pending' }]);
      expect(await claimEvents(db, 'clerk', { limit: 10, leaseMs: 0, maxAttempts: 3 })).toEqual([{ id: 'msg_1', attempts: 3, status: 'dead' }]);
      expect((await event('msg_1')).last_error).toContain('worker stopped while applying');
      expect(await claimEvents(db, 'clerk', { limit: 10, leaseMs: 0, maxAttempts: 3 })).toEqual([]);
    });

    it('stop() finishes the batch under way and returns promptly', async () => {
      const hooks = new Hooks().on('user.created', () => sleep(300));
      await store(db, [{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
      const w = start({ context: { schema: 'clerk', deleteMode: 'soft', hooks } });
      await sleep(100);
      const t = Date.now();
      await w.stop({ timeoutMs: 5000 });
      workers = [];
      expect(Date.now() - t).toBeLessThan(2000);
      expect((await event('msg_1')).status).toBe('applied');
      const idle = start();
      const t2 = Date.now();
      await idle.stop();
      workers = [];
      expect(Date.now() - t2).toBeLessThan(500);
    });

    it('drain applies what is due and reports what still waits', async () => {
      const hooks = new Hooks().on('user.updated', () => {
        throw new Error('flaky');
      });
      await store(db, [
        { id: 'msg_1', type: 'user.created', data: user('user_1', 0) },
        { id: 'msg_2', type: 'user.created', data: user('user_2', 0) },
        { id: 'msg_3', type: 'user.updated', data: user('user_2', 5) },
      ]);
      const result = await drainEvents(deps({ context: { schema: 'clerk', deleteMode: 'soft', hooks }, retry: { maxAttempts: 10, retryBaseMs: 60_000, retryMaxMs: 60_000 } }), { batchSize: 2 });
      expect(result).toMatchObject({ applied: 2, failed: 1, dead: 0, waiting: 1 });
      expect((await event('msg_3')).status).toBe('failed');
      // Nothing due: a second drain does nothing.
      expect(await drainEvents(deps())).toMatchObject({ applied: 0, failed: 0, waiting: 1 });
    });

    it('replay by id, type and time range re-applies idempotently', async () => {
      await store(db, [
        { id: 'msg_1', type: 'user.created', data: user('user_1', 0) },
        { id: 'msg_2', type: 'user.updated', data: user('user_1', 5) },
        { id: 'msg_3', type: 'user.created', data: user('user_2', 0) },
      ]);
      await drainEvents(deps());
      const before = (await db.query('select id, last_name, deleted_at from clerk.users order by id')).rows;
      expect(await replayEvents(db, 'clerk', { ids: ['msg_1'] })).toBe(1);
      expect(await replayEvents(db, 'clerk', { type: 'user.updated' })).toBe(1);
      expect((await statuses()).msg_1).toBe('pending');
      await drainEvents(deps());
      const s = await statuses();
      // Both lose to the rows they wrote the first time (msg_2's own version is no newer than itself): stale, same end state.
      expect(s).toEqual({ msg_1: 'stale', msg_2: 'stale', msg_3: 'applied' });
      expect((await db.query('select id, last_name, deleted_at from clerk.users order by id')).rows).toEqual(before);
      expect(await replayEvents(db, 'clerk', { since: new Date(Date.now() + 60_000) })).toBe(0);
      expect(await replayEvents(db, 'clerk', { since: new Date(Date.now() - 60_000), until: new Date(Date.now() + 60_000) })).toBe(3);
      await drainEvents(deps());
      expect((await db.query('select id, last_name, deleted_at from clerk.users order by id')).rows).toEqual(before);
      await expect(replayEvents(db, 'clerk', {})).rejects.toThrow(/replay needs/);
    });

    it('inline apply: one event in one transaction; a failure is recorded, counted and thrown', async () => {
      await store(db, [
        { id: 'msg_1', type: 'user.created', data: user('user_1', 0) },
        { id: 'msg_2', type: 'user.created', data: user('user_2', 0) },
      ]);
      expect(await applyInline(deps(), 'msg_1')).toBe('applied');
      expect(await applyInline(deps(), 'msg_1')).toBe('skipped');
      const hooks = new Hooks().on('*', () => {
        throw new Error('hook down');
      });
      await expect(applyInline(deps({ context: { schema: 'clerk', deleteMode: 'soft', hooks } }), 'msg_2')).rejects.toThrow('hook down');
      expect(await event('msg_2')).toMatchObject({ status: 'failed', attempts: 1, last_error: 'Error: hook down' });
    });

    describe('side effects', () => {
      const run = async (events: TestEvent[], effects = ALL_EFFECTS) => {
        await store(db, events);
        await drainEvents(deps({ effects }));
      };

      it('user.created → one welcome email and one Slack message per user, however often delivered or replayed', async () => {
        await run([
          { id: 'msg_1', type: 'user.created', data: user('user_1', 0) },
          { id: 'msg_1_again', type: 'user.created', data: user('user_1', 0) },
          { id: 'msg_2', type: 'user.updated', data: user('user_1', 9) },
        ]);
        await replayEvents(db, 'clerk', { all: true });
        await drainEvents(deps({ effects: ALL_EFFECTS }));
        expect(await outbox()).toEqual([
          { kind: 'email.welcome', key: 'user_1', event_id: expect.stringMatching(/^msg_1/) },
          { kind: 'slack.signup', key: 'user_1', event_id: expect.stringMatching(/^msg_1/) },
        ]);
        const payload = (await db.query<{ payload: any }>("select payload from clerk.outbox where kind = 'email.welcome'")).rows[0]!.payload;
        expect(payload).toEqual({ to: 'user_1@example.com', userId: 'user_1', firstName: 'First', lastName: 'Last 0', username: null });
      });

      it('a user.created that arrives after a newer update (stale) still welcomes', async () => {
        await run([{ id: 'msg_2', type: 'user.updated', data: user('user_1', 9) }]);
        await run([{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }]);
        expect((await statuses()).msg_1).toBe('stale');
        expect((await outbox()).map((r) => r.kind)).toEqual(['email.welcome', 'slack.signup']);
      });

      it('backfilled events fire nothing; a deleted user is not welcomed', async () => {
        await run([
          { id: 'backfill:user:user_1', type: 'user.created', data: user('user_1', 0), source: 'backfill' },
          { id: 'msg_del', type: 'user.deleted', data: { id: 'user_2', object: 'user', deleted: true }, timestamp: T0 + 5000 },
          { id: 'msg_2', type: 'user.created', data: user('user_2', 0) },
        ]);
        expect(await outbox()).toEqual([]);
      });

      it('admin memberships get one admin welcome each; members none', async () => {
        await run([
          { id: 'msg_m1', type: 'organizationMembership.created', data: membership('orgmem_1', 'user_1', 'org:admin') },
          { id: 'msg_m1b', type: 'organizationMembership.updated', data: membership('orgmem_1', 'user_1', 'org:admin', 5) },
          { id: 'msg_m2', type: 'organizationMembership.created', data: membership('orgmem_2', 'user_2', 'org:member') },
          { id: 'msg_m3', type: 'organizationMembership.updated', data: membership('orgmem_3', 'user_3', 'org:admin', 3) },
          // Deleted in the same batch: no welcome for a membership that is already gone.
          { id: 'msg_m4', type: 'organizationMembership.created', data: membership('orgmem_4', 'user_4', 'org:admin') },
          { id: 'msg_m4d', type: 'organizationMembership.deleted', data: membership('orgmem_4', 'user_4', 'org:admin', 7), timestamp: T0 + 7000 },
        ]);
        expect((await outbox()).map((r) => `${r.kind}/${r.key}`)).toEqual(['email.admin_welcome/orgmem_1', 'email.admin_welcome/orgmem_3']);
        const payload = (await db.query<{ payload: any }>("select payload from clerk.outbox where key = 'orgmem_1'")).rows[0]!.payload;
        expect(payload).toMatchObject({ to: 'user_1@example.com', organizationName: 'Acme', role: 'org:admin', membershipId: 'orgmem_1' });
      });

      it('email.created not delivered by Clerk is relayed once when the relay is on', async () => {
        const email = (id: string, deliveredByClerk: boolean) => ({
          id,
          object: 'email',
          to_email_address: 'john@acme.com',
          subject: 'Your code',
          body: '<b>1</b>',
          body_plain: '1',
          slug: 'verification_code',
          delivered_by_clerk: deliveredByClerk,
          status: 'queued',
          user_id: 'user_1',
        });
        await run([
          { id: 'msg_e1', type: 'email.created', data: email('ema_1', false) },
          { id: 'msg_e2', type: 'email.created', data: email('ema_2', true) },
        ]);
        await run([{ id: 'msg_e1_again', type: 'email.created', data: email('ema_1', false) }]);
        expect((await outbox()).map((r) => `${r.kind}/${r.key}`)).toEqual(['email.relay/ema_1']);
        await run([{ id: 'msg_e3', type: 'email.created', data: email('ema_3', false) }], { ...ALL_EFFECTS, emailRelay: false });
        expect(await outbox()).toHaveLength(1);
      });

      it('effects that are off write nothing', async () => {
        await run([{ id: 'msg_1', type: 'user.created', data: user('user_1', 0) }], { ...ALL_EFFECTS, welcomeEmail: false });
        expect((await outbox()).map((r) => r.kind)).toEqual(['slack.signup']);
      });
    });

    it.skipIf(backend.name === 'pglite')('two workers on one database: no event applied twice, and faster than one', async () => {
      // Several connections are the point here; PGlite has one, so SKIP LOCKED between workers cannot be shown on it.
      await db.query('create table if not exists public.apply_log (event_id text not null)');
      await db.query('truncate public.apply_log');
      const hooks = new Hooks().on('*', async (e, tx) => {
        await tx.query('insert into public.apply_log values ($1)', [e.id]);
      });
      const { createPgDb } = await import('../../src/db/pg.js');
      const makeEvents = (prefix: string, n: number): TestEvent[] =>
        Array.from({ length: n }, (_, i) => ({ id: `${prefix}_${i}`, type: i % 2 ? 'user.updated' : 'user.created', data: user(`${prefix}_user_${i >> 1}`, i) }));
      const timeToApply = async (prefix: string, n: number, workerCount: number) => {
        await store(db, makeEvents(prefix, n));
        const pools = Array.from({ length: workerCount }, () => createPgDb({ connectionString: database.url!, max: 2 }));
        const started = performance.now();
        const ws = pools.map((pool) => {
          // One loop each: the claim is about processes (or machines), not loops in one process.
          const w = new Worker({ db: pool, schema: 'clerk', logger: silent, context: { schema: 'clerk', deleteMode: 'soft', hooks }, effects: NO_SIDE_EFFECTS, batchSize: 50, pollIntervalMs: 20, concurrency: 1 });
          w.start();
          return w;
        });
        await waitFor(`${prefix} applied`, async () => (await db.query<{ n: number }>("select count(*)::int n from clerk.webhook_events where status = 'pending'")).rows[0]!.n === 0, 30_000, 10);
        const elapsed = performance.now() - started;
        for (const w of ws) await w.stop();
        for (const pool of pools) await pool.close();
        return { elapsed, perWorker: ws.map((w) => w.stats.applied + w.stats.stale), skipped: ws.reduce((n, w) => n + w.stats.skipped, 0) };
      };
      const n = 3000;
      const one = await timeToApply('one', n, 1);
      const two = await timeToApply('two', n, 2);
      const dup = await db.query<{ event_id: string; n: number }>('select event_id, count(*)::int n from public.apply_log group by event_id having count(*) > 1');
      expect(dup.rows).toEqual([]);
      expect((await db.query<{ n: number }>('select count(*)::int n from public.apply_log')).rows[0]!.n).toBe(2 * n);
      expect(two.perWorker.every((c) => c > 0)).toBe(true);
      // Claims never overlap, and a claimed event is never left behind by its apply transaction.
      expect(one.skipped + two.skipped).toBe(0);
      console.log(`apply ${n} events: one worker ${one.elapsed.toFixed(0)} ms, two workers ${two.elapsed.toFixed(0)} ms (split ${two.perWorker.join('/')})`);
      expect(two.elapsed).toBeLessThan(one.elapsed);
    });
  });
}
