/**
 * deleteMode 'scrub': a deleted user's personal fields are erased (ids and timestamps stay), stay
 * erased whatever arrives later and in whatever order, and their inbox payloads are scrubbed too.
 * 'soft' (the default) keeps everything.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyContext } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { deliver, envelope, fixture, iso, row, SOFT, stored, truncateAll, type Envelope } from './support.js';

const SCRUB: ApplyContext = { schema: 'clerk', deleteMode: 'scrub' };
const T = 1_750_000_000_000;
const PERSONAL = ['primary_email', 'email_addresses', 'phone_numbers', 'first_name', 'last_name', 'username', 'image_url', 'public_metadata', 'private_metadata', 'unsafe_metadata', 'raw'];

const userData = (updatedAt: number, extra: Record<string, unknown> = {}) => ({
  ...fixture('user.updated').data,
  id: 'user_1',
  primary_email_address_id: 'idn_1',
  email_addresses: [{ id: 'idn_1', object: 'email_address', email_address: 'jane@example.com', created_at: T - 5000 }],
  phone_numbers: [{ id: 'idn_2', object: 'phone_number', phone_number: '+15550001' }],
  first_name: 'Jane',
  last_name: 'Doe',
  username: 'jane',
  public_metadata: { role: 'admin', permissions: ['posts:write'], onboardingComplete: true },
  private_metadata: { ssn: 'x' },
  unsafe_metadata: { note: 'y' },
  external_id: 'ext_1',
  created_at: T - 5000,
  updated_at: updatedAt,
  ...extra,
});

const history = (): Record<string, Envelope> => ({
  created: envelope('user.created', userData(T), T),
  updated: envelope('user.updated', userData(T + 10, { last_name: 'Roe' }), T + 10),
  deleted: envelope('user.deleted', { id: 'user_1', object: 'user', deleted: true }, T + 20),
  membership: envelope('organizationMembership.created', {
    ...fixture('organizationMembership.created').data,
    id: 'orgmem_1',
    public_user_data: { user_id: 'user_1', first_name: 'Jane', last_name: 'Doe', identifier: 'jane@example.com', image_url: 'https://img/x' },
  }, T),
  email: envelope('email.created', { ...fixture('email.created').data, id: 'ema_1', user_id: 'user_1', to_email_address: 'jane@example.com' }, T),
  other: envelope('user.created', userData(T, { id: 'user_2', first_name: 'Other' }), T),
});

for (const backend of backends) {
  describe(`scrub mode (${backend.name})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => database.drop());
    beforeEach(async () => truncateAll(database.db));
    const db = () => database.db;

    const run = async (names: string[], ctx = SCRUB) => {
      const h = history();
      for (const name of names) await deliver(db(), stored(h[name]!, { id: `msg_${name}` }), ctx);
    };

    it('erases the personal fields and keeps id, timestamps and the non-personal columns', async () => {
      await run(['created', 'updated', 'deleted']);
      const r = (await row(db(), 'users', 'user_1'))!;
      for (const column of PERSONAL) expect(r[column], column).toBeNull();
      expect(r).toMatchObject({
        id: 'user_1', created_at: iso(T - 5000), updated_at: iso(T + 10), deleted_at: iso(T + 20), last_sign_in_at: iso(1716883400000),
        external_id: 'ext_1', banned: false, _scrubbed: true, _version: T + 10,
      });
    });

    it('stays erased when a created/updated arrives after the delete, whatever the mode then', async () => {
      await run(['deleted', 'created']);
      await run(['updated'], SOFT);
      const r = (await row(db(), 'users', 'user_1'))!;
      for (const column of PERSONAL) expect(r[column], column).toBeNull();
      expect(r).toMatchObject({ deleted_at: iso(T + 20), updated_at: iso(T + 10), _version: T + 10 });
    });

    it('ends in the same row whatever the order', async () => {
      const orders = [
        ['created', 'updated', 'deleted'],
        ['deleted', 'updated', 'created'],
        ['updated', 'deleted', 'created'],
      ];
      const results = [];
      for (const order of orders) {
        await truncateAll(db());
        await run(order);
        const { _event_id: _e, ...r } = (await row(db(), 'users', 'user_1'))!;
        results.push(r);
      }
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
    });

    it("scrubs the user's inbox payloads (their own events and those naming them), keeping ids, types and timestamps", async () => {
      await run(['created', 'membership', 'email', 'other', 'deleted']);
      const payloads = Object.fromEntries(
        (await db().query<{ id: string; type: string; payload: any }>('select id, type, payload from clerk.webhook_events')).rows.map((r) => [r.id, r]),
      );
      const created = payloads.msg_created!;
      expect(created.type).toBe('user.created');
      expect(created.payload).toMatchObject({ type: 'user.created', timestamp: T, scrubbed: true });
      expect(created.payload.event_attributes).toBeUndefined();
      expect(created.payload.data).toMatchObject({ id: 'user_1', object: 'user', created_at: T - 5000, updated_at: T, primary_email_address_id: 'idn_1' });
      const text = JSON.stringify(created.payload);
      for (const secret of ['jane@example.com', 'Jane', 'Doe', '+15550001', 'ssn', 'posts:write']) expect(text).not.toContain(secret);

      const member = payloads.msg_membership!.payload;
      expect(member.data.public_user_data).toEqual({ user_id: 'user_1' });
      expect(member.data.organization.id).toBe('org_2g7np7Hrk0SN6kj5EDMLDaKNL0S');
      expect(member.data.role).toBe('org:member');
      expect(JSON.stringify(payloads.msg_email!.payload)).not.toContain('jane@example.com');

      expect(payloads.msg_other!.payload.data.first_name).toBe('Other');
      expect(payloads.msg_other!.payload.scrubbed).toBeUndefined();
    });

    it("scrubs the user's rows in other tables, before or after the deletion", async () => {
      await run(['membership', 'deleted', 'email']);
      const membership = (await row(db(), 'organization_memberships', 'orgmem_1'))!;
      expect(membership.raw.public_user_data).toEqual({ user_id: 'user_1' });
      expect(membership).toMatchObject({ user_id: 'user_1', role: 'org:member' });
      const email = (await row(db(), 'emails', 'ema_1'))!;
      expect(email).toMatchObject({ to_email_address: null, subject: null, user_id: 'user_1', status: 'queued' });
      expect(JSON.stringify(email.raw)).not.toContain('jane@example.com');
      const late = (await db().query<{ payload: any }>(`select payload from clerk.webhook_events where id = 'msg_email'`)).rows[0]!;
      expect(late.payload.scrubbed).toBe(true);
    });

    it('concurrent applies of the deletion and of events about the user leave nothing unscrubbed (and do not deadlock)', async () => {
      const h = history();
      const memberships = Array.from({ length: 8 }, (_, i) =>
        stored(envelope('organizationMembership.updated', { ...h.membership!.data, id: `orgmem_c${i}`, updated_at: T + i }, T + i), { id: `msg_m${i}` }),
      );
      const updates = Array.from({ length: 4 }, (_, i) => stored(envelope('user.updated', userData(T + 30 + i), T + 30 + i), { id: `msg_u${i}` }));
      await run(['created']);
      await Promise.all([deliver(db(), stored(h.deleted!, { id: 'msg_deleted' }), SCRUB), ...[...memberships, ...updates].map((e) => deliver(db(), e, SCRUB))]);
      expect((await row(db(), 'users', 'user_1'))!).toMatchObject({ first_name: null, _scrubbed: true, _version: T + 33 });
      const rows = await db().query<{ raw: unknown }>(`select raw from clerk.organization_memberships where user_id = 'user_1'`);
      expect(rows.rows).toHaveLength(8);
      for (const r of rows.rows) expect(JSON.stringify(r.raw)).not.toContain('jane@example.com');
      const inbox = await db().query<{ payload: unknown }>('select payload from clerk.webhook_events');
      for (const r of inbox.rows) expect(JSON.stringify(r.payload)).not.toContain('jane@example.com');
    });

    it('soft mode keeps the deleted user data and the inbox as they were', async () => {
      await run(['created', 'deleted'], SOFT);
      const r = (await row(db(), 'users', 'user_1'))!;
      expect(r).toMatchObject({ first_name: 'Jane', primary_email: 'jane@example.com', deleted_at: iso(T + 20), _scrubbed: false });
      const payload = (await db().query<{ payload: any }>(`select payload from clerk.webhook_events where id = 'msg_created'`)).rows[0]!.payload;
      expect(payload.data.first_name).toBe('Jane');
    });

    it('a delete replayed in scrub mode scrubs a user first deleted in soft mode', async () => {
      await run(['created', 'deleted'], SOFT);
      await run(['deleted']);
      expect((await row(db(), 'users', 'user_1'))!).toMatchObject({ first_name: null, _scrubbed: true });
    });
  });
}
