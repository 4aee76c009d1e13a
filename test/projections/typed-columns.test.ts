/**
 * The typed columns added for what apps query (migration 0007): each read from the payload as
 * Clerk sends it, null where the payload lacks the field, erased in scrub mode where personal,
 * and filled for rows written before by `reproject` (resumable, never over a newer event).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROJECTIONS, reproject, type ApplyContext } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { deliver, envelope, fixture, iso, row, stored, truncateAll } from './support.js';

const T = 1_750_000_000_000;
const SCRUB: ApplyContext = { schema: 'clerk', deleteMode: 'scrub' };

const richUser = (extra: Record<string, unknown> = {}) => ({
  ...fixture('user.created').data,
  id: 'user_1',
  first_name: 'Jane',
  last_name: 'Doe',
  primary_email_address_id: 'idn_2',
  email_addresses: [
    { id: 'idn_1', object: 'email_address', email_address: 'old@example.com', verification: { status: 'unverified', strategy: 'email_code' } },
    { id: 'idn_2', object: 'email_address', email_address: 'jane@example.com', verification: { status: 'verified', strategy: 'from_oauth_google' } },
  ],
  primary_phone_number_id: 'idn_3',
  phone_numbers: [{ id: 'idn_3', object: 'phone_number', phone_number: '+15550001', verification: { status: 'verified' } }],
  external_accounts: [
    { id: 'eac_1', object: 'external_account', provider: 'oauth_google', provider_user_id: '1234' },
    { id: 'eac_2', object: 'external_account', provider: 'oauth_github', provider_user_id: '99' },
    { id: 'eac_3', object: 'external_account', provider: 'oauth_google', provider_user_id: '5678' },
  ],
  two_factor_enabled: true,
  password_enabled: false,
  legal_accepted_at: T - 1000,
  locale: 'fr-FR',
  created_at: T - 5000,
  updated_at: T,
  ...extra,
});

const membership = () => ({
  ...fixture('organizationMembership.created').data,
  id: 'orgmem_1',
  role: 'org:admin',
  role_name: 'Admin',
  public_user_data: { user_id: 'user_1', first_name: 'Jane', last_name: 'Doe', identifier: 'jane@example.com', image_url: 'https://img/x', has_image: false },
  updated_at: T,
});

const session = () => ({
  ...fixture('session.created').data,
  id: 'sess_1',
  user_id: 'user_1',
  actor: { sub: 'user_admin', iss: 'https://dashboard.clerk.com' },
  latest_activity: { object: 'session_activity', id: 'sess_activity_1', device_type: 'Macintosh', is_mobile: false, browser_name: 'Chrome', browser_version: '126.0.0.0', ip_address: '203.0.113.7', city: 'Lyon', country: 'FR' },
  updated_at: T,
});

for (const backend of backends) {
  describe(`typed columns (${backend.name})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => database.drop());
    beforeEach(async () => truncateAll(database.db));

    it('users: primary phone, verification, 2FA, password, providers, legal acceptance, locale, full name', async () => {
      await deliver(database.db, stored(envelope('user.created', richUser(), T)));
      expect(await row(database.db, 'users', 'user_1')).toMatchObject({
        primary_email: 'jane@example.com',
        primary_phone_number: '+15550001',
        email_verified: true,
        two_factor_enabled: true,
        password_enabled: false,
        external_account_providers: ['oauth_google', 'oauth_github'],
        legal_accepted_at: iso(T - 1000),
        locale: 'fr-FR',
        full_name: 'Jane Doe',
      });
    });

    it('users: fields the payload lacks stay null (no primary address, no names, no accounts)', async () => {
      const bare = { id: 'user_2', object: 'user', created_at: T, updated_at: T };
      await deliver(database.db, stored(envelope('user.created', bare, T)));
      expect(await row(database.db, 'users', 'user_2')).toMatchObject({
        primary_phone_number: null, email_verified: null, two_factor_enabled: null, password_enabled: null,
        external_account_providers: [], legal_accepted_at: null, locale: null, full_name: null,
      });
      await deliver(database.db, stored(envelope('user.updated', { ...bare, first_name: 'Solo', primary_email_address_id: 'idn_x', email_addresses: [{ id: 'idn_x', email_address: 'a@b.c', verification: { status: 'unverified' } }], updated_at: T + 1 }, T + 1)));
      expect(await row(database.db, 'users', 'user_2')).toMatchObject({ full_name: 'Solo', email_verified: false });
    });

    it('organizations, memberships, sessions, invitations, billing', async () => {
      await deliver(database.db, stored(envelope('organization.created', { ...fixture('organization.created').data, id: 'org_1', members_count: 7, pending_invitations_count: 2 }, T)));
      await deliver(database.db, stored(envelope('organizationMembership.created', membership(), T)));
      await deliver(database.db, stored(envelope('session.created', session(), T)));
      await deliver(database.db, stored(envelope('organizationInvitation.created', { ...fixture('organizationInvitation.created').data, id: 'orginv_1', inviter_id: 'user_admin' }, T)));
      const attempt = fixture('paymentAttempt.created');
      await deliver(database.db, stored(attempt));
      const item = { id: 'csubi_1', object: 'commerce_subscription_item', status: 'active', interval: 'month', plan_id: 'cplan_1', subscription_id: 'csub_1', seats: { quantity: 25 }, payer: { id: 'cpayer_1', user_id: 'user_1' }, created_at: T, updated_at: T };
      await deliver(database.db, stored(envelope('subscriptionItem.active', item, T)));

      expect(await row(database.db, 'organizations', 'org_1')).toMatchObject({ members_count: 7, pending_invitations_count: 2 });
      expect(await row(database.db, 'organization_memberships', 'orgmem_1')).toMatchObject({ role_name: 'Admin', identifier: 'jane@example.com', user_first_name: 'Jane', user_last_name: 'Doe' });
      expect(await row(database.db, 'sessions', 'sess_1')).toMatchObject({
        actor: { sub: 'user_admin', iss: 'https://dashboard.clerk.com' }, ip_address: '203.0.113.7', city: 'Lyon', country: 'FR', browser_name: 'Chrome', device_type: 'Macintosh', is_mobile: false,
      });
      expect(await row(database.db, 'organization_invitations', 'orginv_1')).toMatchObject({ role_name: 'Member', inviter_id: 'user_admin' });
      expect(await row(database.db, 'subscription_items', 'csubi_1')).toMatchObject({ seats: 25 });
      expect(await row(database.db, 'payment_attempts', String(attempt.data.id))).toMatchObject({ payment_method: 'card', card_type: 'visa', payment_method_last4: '4242' });
    });

    it('a session without latest_activity or actor, an item without seats: null', async () => {
      await deliver(database.db, stored(envelope('session.created', { ...fixture('session.created').data, id: 'sess_2' }, T)));
      await deliver(database.db, stored(envelope('subscriptionItem.active', { id: 'csubi_2', status: 'active', seats: { quantity: null }, created_at: T, updated_at: T }, T)));
      expect(await row(database.db, 'sessions', 'sess_2')).toMatchObject({ actor: null, ip_address: null, city: null, country: null, browser_name: null, device_type: null, is_mobile: null });
      expect(await row(database.db, 'subscription_items', 'csubi_2')).toMatchObject({ seats: null });
    });

    it('scrub mode erases the personal ones, in whatever order the deletion arrives', async () => {
      await deliver(database.db, stored(envelope('organizationMembership.created', membership(), T)), SCRUB);
      await deliver(database.db, stored(envelope('user.created', richUser(), T)), SCRUB);
      await deliver(database.db, stored(envelope('user.deleted', { id: 'user_1', object: 'user', deleted: true }, T + 10)), SCRUB);
      // After the deletion: still erased.
      await deliver(database.db, stored(envelope('session.created', session(), T + 20)), SCRUB);
      await deliver(database.db, stored(envelope('user.updated', richUser({ updated_at: T + 30 }), T + 30)), SCRUB);
      expect(await row(database.db, 'users', 'user_1')).toMatchObject({ primary_phone_number: null, full_name: null, locale: null, two_factor_enabled: true });
      expect(await row(database.db, 'organization_memberships', 'orgmem_1')).toMatchObject({ identifier: null, user_first_name: null, user_last_name: null, role_name: 'Admin' });
      expect(await row(database.db, 'sessions', 'sess_1')).toMatchObject({ ip_address: null, city: null, country: null, browser_name: null, device_type: null, is_mobile: null });
    });

    it('reproject fills rows written before the columns existed, resumes after a cut, and never overwrites a newer event', async () => {
      for (let i = 0; i < 25; i += 1) await deliver(database.db, stored(envelope('user.created', richUser({ id: `user_r${String(i).padStart(2, '0')}` }), T)));
      await deliver(database.db, stored(envelope('session.ended', { ...session(), status: undefined }, T)));
      // As a database migrated from 0006 holds them: the new columns empty.
      await database.db.query(`update clerk.users set primary_phone_number = null, email_verified = null, external_account_providers = '{}', full_name = null, locale = null`);
      await database.db.query(`update clerk.sessions set ip_address = null, city = null, actor = null`);

      // A run cut short after its first batch of users (the failing callback stands in for a crash).
      let batches = 0;
      await expect(
        reproject(database.db, {
          schema: 'clerk', projections: PROJECTIONS, batchSize: 10,
          onProgress: (p) => {
            if (p.table === 'users' && p.done > 0 && ++batches === 1) throw new Error('cut');
          },
        }),
      ).rejects.toThrow('cut');
      const state = await database.db.query<{ rows_done: string | number }>(`select rows_done from clerk.reproject_state where table_name = 'users'`);
      expect(Number(state.rows[0]?.rows_done)).toBe(10);

      // Meanwhile a newer event about a row not reached yet: the resumed run leaves it as written.
      await deliver(database.db, stored(envelope('user.updated', richUser({ id: 'user_r20', locale: 'de-DE', updated_at: T + 100 }), T + 100)));
      const resumed = await reproject(database.db, { schema: 'clerk', projections: PROJECTIONS, batchSize: 10 });
      expect(resumed.resumed).toBe(true);
      expect(resumed.tables.find((t) => t.table === 'users')).toMatchObject({ rows: 25 });
      const filled = await database.db.query<{ n: number }>(`select count(*)::int as n from clerk.users where primary_phone_number = '+15550001' and email_verified and full_name = 'Jane Doe' and external_account_providers = '{oauth_google,oauth_github}'`);
      expect(filled.rows[0]!.n).toBe(25);
      expect(await row(database.db, 'users', 'user_r20')).toMatchObject({ locale: 'de-DE', _version: T + 100 });
      // The ended session keeps its status and end, which its data alone does not say.
      expect(await row(database.db, 'sessions', 'sess_1')).toMatchObject({ status: 'ended', ended_at: iso(T), ip_address: '203.0.113.7', city: 'Lyon', actor: { sub: 'user_admin', iss: 'https://dashboard.clerk.com' } });

      // Finished: the next run starts over rather than resuming.
      const again = await reproject(database.db, { schema: 'clerk', projections: PROJECTIONS });
      expect(again.resumed).toBe(false);
    });
  });
}
