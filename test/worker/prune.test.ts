/**
 * Retention (decision 0005): what `prune` deletes and what it keeps, per status and age, in
 * batches; dry runs; bad input; one pruner at a time; the worker's schedule; and the promise the
 * design rests on: a pruned event delivered again never sends its side effect a second time.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { prune, PruneSchedule } from '../../src/apply/prune.js';
import { optionsFromEnv, resolveConfig } from '../../src/core/config.js';
import type { Queryable } from '../../src/core/db.js';
import { createPgDb } from '../../src/db/pg.js';
import { replayOutbox } from '../../src/outbox/replay.js';
import { createClerkSync } from '../../src/service/clerk-sync.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { post, startServer } from '../support/http.js';
import { waitFor } from '../outbox/support.js';
import { T0, user } from './events.js';
import { delivery, SECRET } from './services.js';
import { captureLogs } from '../support/logs.js';

const STATUSES = ['pending', 'applied', 'stale', 'ignored', 'failed', 'dead'] as const;
type Status = (typeof STATUSES)[number];
const PRUNABLE = new Set<Status>(['applied', 'stale', 'ignored']);

/** An inbox row received `ageDays` ago (and, when done, applied `appliedAgeDays` ago). */
async function event(q: Queryable, id: string, status: Status, ageDays: number, appliedAgeDays = ageDays): Promise<void> {
  await q.query(
    `insert into clerk.webhook_events (id, type, payload, status, received_at, applied_at)
     values ($1, 'user.updated', $2::jsonb, $3, now() - make_interval(days => $4::int), case when $3 in ('applied', 'stale', 'ignored') then now() - make_interval(days => $5::int) end)`,
    [id, JSON.stringify({ type: 'user.updated', data: { id: `user_${id}`, email: `${id}@example.com` } }), status, ageDays, appliedAgeDays],
  );
}

async function effect(q: Queryable, key: string, status: 'pending' | 'sent' | 'failed' | 'dead', ageDays: number): Promise<void> {
  await q.query(
    `insert into clerk.outbox (kind, key, payload, status, created_at, sent_at, last_error)
     values ('email.welcome', $1, $2::jsonb, $3, now() - make_interval(days => $4::int), case when $3 = 'sent' then now() - make_interval(days => $4::int) end, 'earlier failure')`,
    [key, JSON.stringify({ to: `${key}@example.com` }), status, ageDays],
  );
}

const ids = async (q: Queryable) => (await q.query<{ id: string }>('select id from clerk.webhook_events order by id')).rows.map((r) => r.id);

describe('retention configuration', () => {
  it('defaults to 30 days, takes 0 or false for keep-forever, and refuses anything else with invalid_config', () => {
    expect(resolveConfig({}).retentionDays).toBe(30);
    expect(resolveConfig({ retentionDays: 0 }).retentionDays).toBe(0);
    expect(resolveConfig({ retentionDays: false }).retentionDays).toBe(0);
    expect(resolveConfig({ retentionDays: 7 }).retentionDays).toBe(7);
    for (const bad of [-1, 1.5, 36_501, '30', true, null]) {
      expect(() => resolveConfig({ retentionDays: bad as never })).toThrow(/retentionDays: (a whole number of days from 0 to 36500, or false to keep everything|expected a finite number or false, got)/);
      try {
        resolveConfig({ retentionDays: bad as never });
      } catch (error) {
        expect((error as { code?: string }).code).toBe('invalid_config');
      }
    }
    expect(optionsFromEnv({ CLERK_SYNC_RETENTION_DAYS: '90' }).retentionDays).toBe(90);
    expect(optionsFromEnv({ CLERK_SYNC_RETENTION_DAYS: '0' }).retentionDays).toBe(0);
    expect(() => optionsFromEnv({ CLERK_SYNC_RETENTION_DAYS: 'forever' })).toThrow('CLERK_SYNC_RETENTION_DAYS must be a whole number, got "forever"');
  });
});

for (const backend of backends) {
  describe(`retention: prune (${backend.name})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => {
      await database.drop();
    });
    beforeEach(async () => {
      await database.db.query('truncate clerk.webhook_events, clerk.outbox, clerk.users');
    });

    it('deletes only applied, stale and ignored events past the window, in batches, and reduces only old sent side effects', async () => {
      const db = database.db;
      for (const status of STATUSES) {
        await event(db, `old_${status}`, status, 40);
        await event(db, `new_${status}`, status, 10);
      }
      // A dead letter from long ago, replayed and applied last week: its 30 days start again.
      await event(db, 'old_replayed', 'applied', 40, 5);
      for (const status of ['pending', 'sent', 'failed', 'dead'] as const) await effect(db, `old_${status}`, status, 40);
      await effect(db, 'new_sent', 'sent', 10);

      const progress: number[] = [];
      const result = await prune(db, { schema: 'clerk', days: 30, batchSize: 1, onProgress: (p) => progress.push(p.events + p.outbox) });
      expect(result).toMatchObject({ events: 3, outbox: 1, dryRun: false, busy: false, stopped: false });
      expect(progress).toEqual([1, 2, 3, 4]);
      expect(await ids(db)).toEqual(
        ['new_applied', 'new_dead', 'new_failed', 'new_ignored', 'new_pending', 'new_stale', 'old_dead', 'old_failed', 'old_pending', 'old_replayed'].sort(),
      );
      const outbox = (await db.query<{ key: string; status: string; payload: unknown; last_error: string | null; pruned: boolean }>(
        'select key, status, payload, last_error, pruned_at is not null as pruned from clerk.outbox order by key',
      )).rows;
      expect(outbox).toEqual([
        { key: 'new_sent', status: 'sent', payload: { to: 'new_sent@example.com' }, last_error: 'earlier failure', pruned: false },
        { key: 'old_dead', status: 'dead', payload: { to: 'old_dead@example.com' }, last_error: 'earlier failure', pruned: false },
        { key: 'old_failed', status: 'failed', payload: { to: 'old_failed@example.com' }, last_error: 'earlier failure', pruned: false },
        { key: 'old_pending', status: 'pending', payload: { to: 'old_pending@example.com' }, last_error: 'earlier failure', pruned: false },
        { key: 'old_sent', status: 'sent', payload: {}, last_error: null, pruned: true },
      ]);

      // Idempotent: a second run finds nothing.
      expect(await prune(db, { schema: 'clerk', days: 30 })).toMatchObject({ events: 0, outbox: 0 });
      // A reduced row has nothing to send: replay by id leaves it alone.
      const oldSent = (await db.query<{ id: string }>(`select id from clerk.outbox where key = 'old_sent'`)).rows[0]!.id;
      expect(await replayOutbox(db, 'clerk', { ids: [Number(oldSent)] })).toBe(0);
    });

    it('a dry run counts what a run would prune and changes nothing; bad days change nothing either', async () => {
      const db = database.db;
      for (const status of STATUSES) await event(db, `old_${status}`, status, 40);
      await effect(db, 'old_sent', 'sent', 40);
      const dry = await prune(db, { schema: 'clerk', days: 30, dryRun: true });
      expect(dry).toMatchObject({ events: 3, outbox: 1, dryRun: true });
      expect((await ids(db)).length).toBe(6);
      for (const days of [0, -3, 1.5, 36_501, Number.NaN]) {
        await expect(prune(db, { schema: 'clerk', days })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringContaining('days must be a whole number of days from 1 to 36500') });
      }
      await expect(prune(db, { schema: 'clerk', days: 30, batchSize: 0 })).rejects.toMatchObject({ code: 'invalid_config' });
      for (const share of [0, -0.1, 1.5, Number.NaN]) {
        await expect(prune(db, { schema: 'clerk', days: 30, share })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringContaining('share must be a number above 0 and at most 1') });
      }
      for (const batchMs of [0, -5, Number.NaN]) {
        await expect(prune(db, { schema: 'clerk', days: 30, batchMs })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringContaining('batchMs must be a positive number') });
      }
      expect((await ids(db)).length).toBe(6);
      expect((await db.query(`select 1 from clerk.outbox where pruned_at is not null`)).rows).toEqual([]);
    });

    it('with a batch duration target, batches shrink to what fits it (never below 10 rows) and still prune everything', async () => {
      const db = database.db;
      for (let i = 0; i < 250; i++) await event(db, `old_${String(i).padStart(3, '0')}`, 'applied', 40);
      const progress: number[] = [];
      // No batch fits a target of a microsecond: after the first (100 rows), each takes the minimum.
      const result = await prune(db, { schema: 'clerk', days: 30, batchMs: 0.001, onProgress: (p) => progress.push(p.events) });
      expect(result.events).toBe(250);
      expect(progress).toEqual([100, ...Array.from({ length: 15 }, (_, i) => 110 + i * 10)]);
      expect(await ids(db)).toEqual([]);
    });

    it('prunes exactly the done events past the window, whatever the mix and batch size (property)', async () => {
      const db = database.db;
      // Exactly 30 days is left out: such a row is a few milliseconds past the window by the time
      // prune reads the clock, so either answer would be right.
      const days = fc.integer({ min: 0, max: 60 }).filter((d) => d !== 30);
      const row = fc.record({ status: fc.constantFrom(...STATUSES), age: days, appliedAge: days });
      await fc.assert(
        fc.asyncProperty(fc.array(row, { maxLength: 25 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom({}, { share: 0.5, batchMs: 1 }), async (rows, batchSize, pace) => {
          await db.query('truncate clerk.webhook_events');
          for (const [i, r] of rows.entries()) await event(db, `e${String(i).padStart(3, '0')}`, r.status, r.age, Math.min(r.age, r.appliedAge));
          const expected = rows
            .map((r, i) => ({ ...r, id: `e${String(i).padStart(3, '0')}` }))
            .filter((r) => !(PRUNABLE.has(r.status) && r.age > 30 && Math.min(r.age, r.appliedAge) > 30))
            .map((r) => r.id);
          const result = await prune(db, { schema: 'clerk', days: 30, batchSize, ...pace });
          expect(result.events).toBe(rows.length - expected.length);
          expect(await ids(db)).toEqual(expected);
          expect((await prune(db, { schema: 'clerk', days: 30, batchSize })).events).toBe(0);
        }),
        { numRuns: backend.name === 'pglite' ? 15 : 25 },
      );
    }, 60_000);

    it('the worker schedule prunes and logs counts only', async () => {
      const db = database.db;
      await event(db, 'old_applied', 'applied', 40);
      await effect(db, 'old_sent', 'sent', 40);
      const { lines, logger } = captureLogs();
      const schedule = new PruneSchedule({ db, schema: 'clerk', days: 30, logger, firstDelayMs: 0, intervalMs: 60_000 });
      schedule.start();
      const line = await waitFor('the prune log line', () => lines.find((l) => l.msg?.startsWith('retention: pruned')));
      await schedule.stop();
      expect(line).toMatchObject({ level: 30, events: 1, outbox: 1, days: 30 });
      const pinoKeys = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg']);
      expect(Object.keys(line!).filter((k) => !pinoKeys.has(k)).sort()).toEqual(['days', 'events', 'ms', 'outbox']);
      expect(JSON.stringify(lines)).not.toContain('example.com');
      expect(await ids(db)).toEqual([]);
    });

    if (backend.name === 'postgres') {
      it('only one pruner works at a time: the other stops at once and changes nothing', async () => {
        await event(database.db, 'old_applied', 'applied', 40);
        const other = createPgDb({ connectionString: database.url!, max: 1 });
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let locked!: () => void;
        const isLocked = new Promise<void>((r) => (locked = r));
        const holder = other.transaction(async (tx) => {
          await tx.query(`select pg_advisory_xact_lock(hashtext('clerk-sync:prune:clerk'))`);
          locked();
          await held;
        });
        try {
          await isLocked;
          expect(await prune(database.db, { schema: 'clerk', days: 30 })).toMatchObject({ events: 0, busy: true });
          expect(await ids(database.db)).toEqual(['old_applied']);
        } finally {
          release();
          await holder;
          await other.close();
        }
        expect(await prune(database.db, { schema: 'clerk', days: 30 })).toMatchObject({ events: 1, busy: false });
      });
    }

    it('a pruned sign-up delivered again is stored and applied again, but its welcome email is not sent twice', async () => {
      const sent: string[] = [];
      const sync = createClerkSync({ secret: SECRET, db: database.db, logger: false, now: () => T0, autoMigrate: false });
      sync.outbox.register('email.welcome', (message) => void sent.push(message.key));
      const server = await startServer(sync);
      try {
        const url = `${server.url}/webhooks/clerk`;
        const signUp = delivery('msg_signup', 'user.created', user('user_1', 0));
        expect((await post(url, signUp.body, signUp.headers)).status).toBe(200);
        await sync.drain();
        expect(sent).toEqual(['user_1']);

        await database.db.query(`update clerk.webhook_events set received_at = now() - interval '40 days', applied_at = now() - interval '40 days'`);
        await database.db.query(`update clerk.outbox set created_at = now() - interval '40 days', sent_at = now() - interval '40 days'`);
        expect(await sync.prune()).toMatchObject({ events: 1, outbox: 1 });
        expect(await ids(database.db)).toEqual([]);

        // Svix (or an operator's "replay" in Clerk's dashboard) delivers it again, months later.
        const again = await post(url, signUp.body, signUp.headers);
        expect(again.status).toBe(200);
        expect(again.json).not.toMatchObject({ duplicate: true });
        await sync.drain();
        await waitFor('the redelivery applied', async () => (await database.db.query<{ status: string }>(`select status from clerk.webhook_events where id = 'msg_signup'`)).rows[0]?.status !== 'pending');
        expect(sent).toEqual(['user_1']);
        const outbox = await database.db.query<{ n: number }>(`select count(*)::int as n from clerk.outbox where kind = 'email.welcome' and key = 'user_1'`);
        expect(outbox.rows[0]!.n).toBe(1);
        expect((await database.db.query(`select id from clerk.users where id = 'user_1' and deleted_at is null`)).rows).toHaveLength(1);
      } finally {
        await server.close();
        await sync.close();
      }
    });

    it('sync.prune refuses to guess when retention is off, and takes explicit days', async () => {
      await event(database.db, 'old_applied', 'applied', 40);
      const sync = createClerkSync({ secret: SECRET, db: database.db, logger: false, autoMigrate: false, retentionDays: 0 });
      try {
        await expect(sync.prune()).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringContaining('retention is off') });
        expect(await ids(database.db)).toEqual(['old_applied']);
        expect(await sync.prune({ days: 35 })).toMatchObject({ events: 1 });
      } finally {
        await sync.close();
      }
    });
  });
}
