/**
 * The ordering contract (DESIGN.md "Ordering and convergence"), one rule per test: version,
 * seconds/ms normalisation, deterministic ties, stale events, final tombstones, sessions, last
 * seen, and the guard under concurrent workers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backends, type TestDatabase } from '../support/databases.js';
import type { ApplyContext } from '../../src/projections/index.js';
import { FUTURE_TOLERANCE_MS } from '../../src/projections/version.js';
import { deliver, envelope, fixture, iso, row, SOFT, stored, truncateAll } from './support.js';

const T = 1_750_000_000_000;

const user = (id: string, updatedAt: number | undefined, extra: Record<string, unknown> = {}) => ({
  id, object: 'user', first_name: 'First', ...(updatedAt === undefined ? {} : { updated_at: updatedAt }), created_at: T - 1000, ...extra,
});
const membership = (id: string, updatedAt: number, role = 'org:member') => ({
  id, object: 'organization_membership', role, permissions: [], organization: { id: 'org_1' }, public_user_data: { user_id: 'user_1' }, created_at: T - 1000, updated_at: updatedAt,
});
const session = (status: string, updatedAt: number, lastActive: number, userId = 'user_1', id = 'sess_1') => ({
  id, object: 'session', user_id: userId, client_id: 'client_1', status, last_active_at: lastActive, expire_at: T + 1e9, abandon_at: T + 2e9, created_at: T - 1000, updated_at: updatedAt,
});

for (const backend of backends) {
  describe(`ordering and convergence (${backend.name})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => database.drop());
    beforeEach(async () => truncateAll(database.db));
    const db = () => database.db;

    describe('version', () => {
      it('is data.updated_at when present: a newer one replaces the row, an older one is stale and changes nothing', async () => {
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', T + 2, { first_name: 'New' }), T)))).toBe('applied');
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', T + 1, { first_name: 'Old' }), T + 10)))).toBe('stale');
        expect(await row(db(), 'users', 'user_1')).toMatchObject({ first_name: 'New', _version: T + 2, _event_ts: T });
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', T + 3, { first_name: 'Newer' }), T)))).toBe('applied');
        expect((await row(db(), 'users', 'user_1'))!.first_name).toBe('Newer');
      });

      it('the stale event is recorded as stale in the inbox', async () => {
        await deliver(db(), stored(envelope('user.updated', user('user_1', T + 2), T)));
        const late = stored(envelope('user.created', user('user_1', T + 1), T));
        await deliver(db(), late);
        expect((await db().query<{ status: string }>('select status from clerk.webhook_events where id = $1', [late.id])).rows[0]!.status).toBe('stale');
      });

      it('is the envelope timestamp when the data has no updated_at, in seconds or milliseconds alike', async () => {
        // 1750000001 s = T + 1000 ms: newer than an event stamped T ms
        await deliver(db(), stored(envelope('user.updated', user('user_1', undefined, { first_name: 'Ms' }), T)));
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', undefined, { first_name: 'Seconds' }), T / 1000 + 1)))).toBe('applied');
        expect(await row(db(), 'users', 'user_1')).toMatchObject({ first_name: 'Seconds', _version: T + 1000, _event_ts: T + 1000 });
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', undefined, { first_name: 'Older' }), T + 999)))).toBe('stale');
      });

      it('uses the stored clerk_timestamp (already normalised) over the payload timestamp', async () => {
        const event = stored(envelope('user.updated', user('user_1', undefined), 1), { id: 'msg_a' });
        await deliver(db(), { ...event, clerkTimestamp: T + 5 });
        expect((await row(db(), 'users', 'user_1'))!._version).toBe(T + 5);
      });
    });

    describe('far-future versions', () => {
      const YEAR_9999 = 253_402_300_799_000;

      it('an updated_at beyond the envelope timestamp plus the tolerance competes as that bound, so a later real update still wins, in either order', async () => {
        const frozen = stored(envelope('user.updated', user('user_1', YEAR_9999, { first_name: 'Future' }), T), { id: 'msg_future' });
        const later = stored(envelope('user.updated', user('user_1', T + FUTURE_TOLERANCE_MS + 1, { first_name: 'Real' }), T + FUTURE_TOLERANCE_MS + 2), { id: 'msg_real' });
        expect(await deliver(db(), frozen)).toBe('applied');
        expect(await row(db(), 'users', 'user_1')).toMatchObject({ first_name: 'Future', _version: T + FUTURE_TOLERANCE_MS, _event_ts: T });
        expect(await deliver(db(), later)).toBe('applied');
        expect(await row(db(), 'users', 'user_1')).toMatchObject({ first_name: 'Real', _version: T + FUTURE_TOLERANCE_MS + 1 });
        await truncateAll(db());
        expect(await deliver(db(), later)).toBe('applied');
        expect(await deliver(db(), frozen)).toBe('stale');
        expect(await row(db(), 'users', 'user_1')).toMatchObject({ first_name: 'Real', _version: T + FUTURE_TOLERANCE_MS + 1 });
      });

      it('within the tolerance the bounded event still wins: that is how long it can hold a row', async () => {
        await deliver(db(), stored(envelope('user.updated', user('user_1', YEAR_9999, { first_name: 'Future' }), T)));
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', T + 60_000, { first_name: 'Soon' }), T + 60_000)))).toBe('stale');
      });

      it('a bounded event is logged at warn with its ids and times, never its data', async () => {
        const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
        const logger = { warn: (fields: Record<string, unknown>, message: string) => void warnings.push({ fields, message }) } as unknown as ApplyContext['logger'];
        const event = stored(envelope('user.updated', user('user_1', YEAR_9999, { first_name: 'Secret' }), T), { id: 'msg_future' });
        await deliver(db(), event, { ...SOFT, logger });
        await deliver(db(), stored(envelope('user.updated', user('user_1', T + 1), T + 2)), { ...SOFT, logger });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.fields).toEqual({ svixId: 'msg_future', eventType: 'user.updated', entityId: 'user_1', updatedAt: YEAR_9999, version: T + FUTURE_TOLERANCE_MS });
        expect(JSON.stringify(warnings)).not.toContain('Secret');
      });

      it('a row frozen before versions were bounded (its version beyond the clock) takes the next event, then orders normally', async () => {
        await deliver(db(), stored(envelope('user.updated', user('user_1', T, { first_name: 'Frozen' }), T)));
        await db().query('update clerk.users set _version = $1, _event_ts = $1 where id = $2', [YEAR_9999, 'user_1']);
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', T + 1000, { first_name: 'Thawed' }), T + 1000)))).toBe('applied');
        expect(await row(db(), 'users', 'user_1')).toMatchObject({ first_name: 'Thawed', _version: T + 1000 });
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', T + 500, { first_name: 'Older' }), T + 500)))).toBe('stale');
      });
    });

    describe('ties: (version, envelope timestamp, svix id) decides, whatever the arrival order', () => {
      const a = () => stored(envelope('user.updated', user('user_1', T, { first_name: 'A' }), T + 5), { id: 'msg_b' });
      const b = () => stored(envelope('user.updated', user('user_1', T, { first_name: 'B' }), T + 9), { id: 'msg_a' });
      const c = () => stored(envelope('user.updated', user('user_1', T, { first_name: 'C' }), T + 9), { id: 'msg_c' });

      it('equal versions: the later envelope timestamp wins, then the greater svix id', async () => {
        for (const order of [[a, b, c], [c, b, a], [b, c, a], [c, a, b]]) {
          await truncateAll(db());
          for (const make of order) await deliver(db(), make());
          expect(await row(db(), 'users', 'user_1')).toMatchObject({ first_name: 'C', _event_id: 'msg_c', _event_ts: T + 9 });
        }
      });

      it('svix ids compare by code point, not by the database collation', async () => {
        const lower = stored(envelope('user.updated', user('user_1', T, { first_name: 'lower' }), T), { id: 'msg_a' });
        const upper = stored(envelope('user.updated', user('user_1', T, { first_name: 'upper' }), T), { id: 'msg_B' });
        await deliver(db(), lower);
        expect(await deliver(db(), upper)).toBe('stale'); // 'B' (0x42) < 'a' (0x61)
        await truncateAll(db());
        await deliver(db(), upper);
        expect(await deliver(db(), lower)).toBe('applied');
      });
    });

    describe('tombstones', () => {
      it('a delete leaves a tombstone at its version and keeps the data (soft mode)', async () => {
        await deliver(db(), stored(envelope('user.created', user('user_1', T), T)));
        expect(await deliver(db(), stored(envelope('user.deleted', { id: 'user_1', object: 'user', deleted: true }, T + 50)))).toBe('applied');
        expect(await row(db(), 'users', 'user_1')).toMatchObject({ deleted_at: iso(T + 50), first_name: 'First', _version: T });
      });

      it('is final: a late created/updated with a newer version updates data but never clears it', async () => {
        await deliver(db(), stored(envelope('user.deleted', { id: 'user_1', object: 'user', deleted: true }, T)));
        expect(await deliver(db(), stored(envelope('user.updated', user('user_1', T + 1000, { first_name: 'Late' }), T + 1000)))).toBe('applied');
        expect(await row(db(), 'users', 'user_1')).toMatchObject({ deleted_at: iso(T), first_name: 'Late' });
      });

      it('delete before create: the row exists with just id + deleted_at, and the create fills data but keeps the tombstone', async () => {
        await deliver(db(), stored(envelope('organization.deleted', { id: 'org_1', object: 'organization', deleted: true }, T + 10)));
        expect(await row(db(), 'organizations', 'org_1')).toMatchObject({ id: 'org_1', deleted_at: iso(T + 10), name: null, raw: null, _version: null });
        const created = fixture('organization.created').data;
        await deliver(db(), stored(envelope('organization.created', { ...created, id: 'org_1', updated_at: T }, T)));
        expect(await row(db(), 'organizations', 'org_1')).toMatchObject({ deleted_at: iso(T + 10), name: 'Acme Corp', _version: T });
      });

      it('a repeated delete is stale; several deletes converge on the earliest', async () => {
        const del = (ts: number) => stored(envelope('role.deleted', { id: 'role_1', object: 'role', deleted: true }, ts));
        const later = del(T + 20);
        expect(await deliver(db(), later)).toBe('applied');
        expect(await deliver(db(), later)).toBe('stale');
        expect(await deliver(db(), del(T + 10))).toBe('applied');
        expect(await deliver(db(), del(T + 30))).toBe('stale');
        expect((await row(db(), 'roles', 'role_1'))!.deleted_at).toBe(iso(T + 10));
      });

      it('organizationMembership.deleted carries an unbumped updated_at and still wins', async () => {
        await deliver(db(), stored(envelope('organizationMembership.created', membership('orgmem_1', T), T)));
        await deliver(db(), stored(envelope('organizationMembership.updated', membership('orgmem_1', T + 100, 'org:admin'), T + 100)));
        // deleted: the membership as it was created (updated_at T), sent at T + 200
        expect(await deliver(db(), stored(envelope('organizationMembership.deleted', membership('orgmem_1', T), T + 200)))).toBe('applied');
        // the tombstone is dated by the delete's envelope time, not the unbumped updated_at; the data stays the newer update's
        expect(await row(db(), 'organization_memberships', 'orgmem_1')).toMatchObject({ deleted_at: iso(T + 200), role: 'org:admin', _version: T + 100 });
      });

      it('organizationMembership.deleted first: the tombstone and the membership data from the delete', async () => {
        await deliver(db(), stored(envelope('organizationMembership.deleted', membership('orgmem_1', T), T + 200)));
        expect(await row(db(), 'organization_memberships', 'orgmem_1')).toMatchObject({ deleted_at: iso(T + 200), organization_id: 'org_1', user_id: 'user_1' });
        expect(await deliver(db(), stored(envelope('organizationMembership.created', membership('orgmem_1', T), T)))).toBe('stale');
        expect(await deliver(db(), stored(envelope('organizationMembership.updated', membership('orgmem_1', T + 100, 'org:admin'), T + 100)))).toBe('applied');
        expect(await row(db(), 'organization_memberships', 'orgmem_1')).toMatchObject({ deleted_at: iso(T + 200), role: 'org:admin' });
      });
    });

    describe('sessions', () => {
      it('status events set status; ended/removed/revoked set ended_at; a late created does not reopen', async () => {
        await deliver(db(), stored(envelope('session.created', session('active', T, T), T)));
        expect(await row(db(), 'sessions', 'sess_1')).toMatchObject({ status: 'active', ended_at: null });
        await deliver(db(), stored(envelope('session.revoked', session('revoked', T + 60_000, T + 30_000), T + 60_000)));
        expect(await row(db(), 'sessions', 'sess_1')).toMatchObject({ status: 'revoked', ended_at: iso(T + 60_000), last_active_at: iso(T + 30_000) });
        expect(await deliver(db(), stored(envelope('session.created', session('active', T, T), T + 1)))).toBe('stale');
        expect((await row(db(), 'sessions', 'sess_1'))!.status).toBe('revoked');
      });

      it('takes the status from the event type when the payload has none', async () => {
        const { status: _s, ...data } = session('x', T, T);
        await deliver(db(), stored(envelope('session.pending', data, T)));
        expect((await row(db(), 'sessions', 'sess_1'))!.status).toBe('pending');
        await deliver(db(), stored(envelope('session.ended', { ...data, updated_at: T + 5 }, T + 5)));
        expect(await row(db(), 'sessions', 'sess_1')).toMatchObject({ status: 'ended', ended_at: iso(T + 5) });
      });

      it("user_last_seen is the user's newest session activity", async () => {
        await deliver(db(), stored(envelope('session.created', session('active', T, T + 10, 'user_1', 'sess_a'), T)));
        await deliver(db(), stored(envelope('session.ended', session('ended', T + 100, T + 90, 'user_1', 'sess_b'), T + 100)));
        await deliver(db(), stored(envelope('session.created', session('active', T, T + 500, 'user_2', 'sess_c'), T)));
        const seen = await db().query<{ user_id: string; last_seen_at: Date }>('select user_id, last_seen_at from clerk.user_last_seen order by user_id');
        expect(seen.rows.map((r) => [r.user_id, r.last_seen_at.toISOString()])).toEqual([
          ['user_1', iso(T + 90)],
          ['user_2', iso(T + 500)],
        ]);
      });
    });

    it('concurrent workers applying competing versions of one row end with the newest (the guard is in the upsert)', async () => {
      const events = Array.from({ length: 20 }, (_, i) => stored(envelope('user.updated', user('user_c', T + i, { first_name: `v${i}` }), T + i)));
      for (let i = events.length - 1; i > 0; i--) {
        const j = (i * 7) % (i + 1);
        [events[i], events[j]] = [events[j]!, events[i]!];
      }
      const statuses = await Promise.all(events.map((e) => deliver(db(), e)));
      expect(statuses.filter((s) => s === 'applied').length).toBeGreaterThanOrEqual(1);
      expect(await row(db(), 'users', 'user_c')).toMatchObject({ first_name: 'v19', _version: T + 19 });
    });
  });
}
