/**
 * Every event type clerk-sync projects: its example (a fixture from test/fixtures, or one built
 * from Clerk's field list in src/clerk/examples) is applied and the resulting row asserted.
 * Also: the alt/ fixture variants, unknown types (ignored, replayable), payload errors.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyEvent, EVENT_TYPES, isKnownEventType, PayloadError, PROJECTIONS, ProjectionRegistry } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { altFixtures, deliver, envelope, example, exampleTypes, fixture, fixturesDir, iso, row, SOFT, stored, truncateAll, type Envelope } from './support.js';

const T0 = 1716883200000;
const T1 = 1716883500000;
const USER = 'user_2g7np7Hrk0SN6kj5EDMLDaKNL0S';
const ORG = 'org_2g7np7Hrk0SN6kj5EDMLDaKNL0S';
const MEMBER = 'user_2h8op3Isl1QR7tKu5FGNfaLKEoU';

/** The fixture when one exists, else the example built from the field list. */
function exampleOf(type: string): Envelope {
  return existsSync(new URL(`${type}.json`, fixturesDir)) ? fixture(type) : example(type);
}

type Case = { table: string; id: string; expected: Record<string, unknown> };

const membership = { organization_id: ORG, user_id: MEMBER, public_metadata: {} };
const session1 = { user_id: 'user_29wBMCtzATuFJut8jO2VNTVekS4', client_id: 'client_29wBS3h1zhE1BsEK2dg9oyypfYk', expire_at: iso(1654619118265), abandon_at: iso(1656606318265) };
const session2 = { user_id: 'user_29wACSk1DjeUCwsS6SbbgIgilMy', client_id: 'client_29yEIm6PxP7tYNATgQ79eSklT37', last_active_at: iso(1654076884668), updated_at: iso(1654076908445) };
const invitation = { email_address: 'jane.doe@acme.com', organization_id: ORG, role: 'org:member', expires_at: iso(1717487999000) };
const billingPayer = { payer_id: 'cpayer_2g7np7Hrk0SN6kj5EDMLDaKNL0S', user_id: USER, organization_id: null };
const item = (status: string, minute: number, freeTrial = false) => ({
  table: 'subscription_items',
  id: 'csubi_2g7np7Hrk0SN6kj5EDMLDaKNL0S',
  expected: {
    ...billingPayer, status, subscription_id: 'csub_2g7np7Hrk0SN6kj5EDMLDaKNL0S', plan_id: 'cplan_2g7np7Hrk0SN6kj5EDMLDaKNL0S', plan_slug: 'pro', plan_name: 'Pro',
    amount: 2000, currency: 'USD', interval: 'month', is_free_trial: freeTrial, period_start: iso(T0), period_end: iso(1719561600000), updated_at: iso(T0 + minute * 60000),
  },
});
const subscription = (status: string, extra: Record<string, unknown>) => ({
  table: 'subscriptions',
  id: 'csub_2g7np7Hrk0SN6kj5EDMLDaKNL0S',
  expected: { ...billingPayer, status, plan_id: 'cplan_2g7np7Hrk0SN6kj5EDMLDaKNL0S', plan_slug: 'pro', latest_payment_id: 'cpa_2g7np7Hrk0SN6kj5EDMLDaKNL0S', payment_source_id: 'cps_2g7np7Hrk0SN6kj5EDMLDaKNL0S', ...extra },
});
const tombstone = (table: string, id: string, at = T0): Case => ({ table, id, expected: { deleted_at: iso(at), _version: null, raw: null } });

const CASES: Record<string, Case> = {
  'user.created': {
    table: 'users',
    id: USER,
    expected: {
      first_name: 'John', last_name: 'Doe', username: null, image_url: 'https://img.clerk.com/xxxxxx', primary_email: null, email_addresses: [], phone_numbers: [],
      public_metadata: {}, private_metadata: null, unsafe_metadata: {}, banned: false, locked: false, external_id: null,
      created_at: iso(T0), updated_at: iso(T0), last_sign_in_at: iso(T0), last_active_at: iso(T0), deleted_at: null,
      role: null, permissions: [], organization_id: null, is_active: true, onboarding_completed: false,
      // the envelope timestamp 1716883200 is in seconds: normalised to ms
      _version: T0, _event_ts: T0,
    },
  },
  'user.updated': { table: 'users', id: USER, expected: { last_name: 'Doe Updated', username: 'johndoe', public_metadata: { department: 'engineering' }, updated_at: iso(T1), last_sign_in_at: iso(1716883400000), _version: T1 } },
  'user.deleted': tombstone('users', USER),
  'session.created': { table: 'sessions', id: 'sess_29wBYxnMCQU2KIs6V3ZPOJCPUXx', expected: { ...session1, status: 'active', ended_at: null, last_active_at: iso(1654014318265), created_at: iso(1654014318265) } },
  'session.pending': { table: 'sessions', id: 'sess_29wBYxnMCQU2KIs6V3ZPOJCPUXy', expected: { ...session1, status: 'pending', ended_at: null, last_active_organization_id: null } },
  'session.ended': { table: 'sessions', id: 'sess_29wBYxnMCQU2KIs6V3ZPOJCPUXx', expected: { ...session1, status: 'ended', ended_at: iso(1654014330122), last_active_at: iso(1654014326759) } },
  'session.removed': { table: 'sessions', id: 'sess_29yEL4LAO6Fh4KwuV7D55SqurWi', expected: { ...session2, status: 'removed', ended_at: iso(1654076908445) } },
  'session.revoked': { table: 'sessions', id: 'sess_29yEL4LAO6Fh4KwuV7D55SqurWi', expected: { ...session2, status: 'revoked', ended_at: iso(1654076908445) } },
  'organization.created': {
    table: 'organizations',
    id: ORG,
    expected: { name: 'Acme Corp', slug: 'acme-corp', image_url: 'https://img.clerk.com/xxxxxx', created_by: USER, public_metadata: {}, private_metadata: {}, max_allowed_memberships: 5, created_at: iso(T0), deleted_at: null },
  },
  'organization.updated': { table: 'organizations', id: ORG, expected: { name: 'Acme Corp Updated', slug: 'acme-corp-updated', max_allowed_memberships: 10, private_metadata: { internal_id: 'ORG-123' }, updated_at: iso(T1) } },
  'organization.deleted': tombstone('organizations', ORG),
  'organizationMembership.created': { table: 'organization_memberships', id: 'orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { ...membership, role: 'org:member', permissions: ['org:posts:read', 'org:posts:write'], deleted_at: null } },
  'organizationMembership.updated': {
    table: 'organization_memberships',
    id: 'orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S',
    expected: { ...membership, role: 'org:admin', permissions: ['org:posts:read', 'org:posts:write', 'org:posts:delete', 'org:members:manage'], updated_at: iso(T1) },
  },
  // The deleted membership carries the whole object: tombstone and data.
  'organizationMembership.deleted': { table: 'organization_memberships', id: 'orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { ...membership, role: 'org:member', deleted_at: iso(T0), _version: T0 } },
  'organizationDomain.created': {
    table: 'organization_domains',
    id: 'orgdmn_2g7np7Hrk0SN6kj5EDMLDaKNL0S',
    expected: { organization_id: ORG, name: 'acme.com', enrollment_mode: 'automatic_invitation', verification_status: null },
  },
  'organizationDomain.updated': { table: 'organization_domains', id: 'orgdm_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { organization_id: ORG, enrollment_mode: 'automatic_suggestion', verification_status: 'verified' } },
  'organizationDomain.deleted': tombstone('organization_domains', 'orgdm_2g7np7Hrk0SN6kj5EDMLDaKNL0S'),
  'organizationInvitation.created': { table: 'organization_invitations', id: 'orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { ...invitation, status: 'pending', user_id: null } },
  'organizationInvitation.accepted': { table: 'organization_invitations', id: 'orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { ...invitation, status: 'accepted', user_id: MEMBER } },
  'organizationInvitation.revoked': { table: 'organization_invitations', id: 'orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { ...invitation, status: 'revoked', deleted_at: null } },
  'invitation.created': { table: 'invitations', id: 'inv_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { email_address: 'jane.doe@example.com', status: 'pending', role: null, expires_at: iso(1717487999000) } },
  'invitation.accepted': { table: 'invitations', id: 'inv_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { status: 'accepted', updated_at: iso(T1) } },
  'invitation.revoked': { table: 'invitations', id: 'inv_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { status: 'revoked', deleted_at: null } },
  'role.created': { table: 'roles', id: 'role_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { key: 'org:content_manager', name: 'Content Manager', description: 'Can manage all content in the organization', permissions: ['org:posts:create'] } },
  'role.updated': { table: 'roles', id: 'role_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { key: 'editor', name: 'Editor', permissions: ['org:posts:edit', 'org:posts:publish'] } },
  'role.deleted': tombstone('roles', 'role_2g7np7Hrk0SN6kj5EDMLDaKNL0S'),
  'permission.created': { table: 'permissions', id: 'perm_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { key: 'org:posts:create', name: 'Create Posts', type: 'custom', description: 'Ability to create new posts in the organization' } },
  'permission.updated': { table: 'permissions', id: 'perm_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { key: 'org:posts:create', name: 'Create and Edit Posts' } },
  'permission.deleted': tombstone('permissions', 'perm_2g7np7Hrk0SN6kj5EDMLDaKNL0S'),
  'waitlistEntry.created': { table: 'waitlist_entries', id: 'wle_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { email_address: 'john.doe@example.com', status: 'pending' } },
  'waitlistEntry.updated': { table: 'waitlist_entries', id: 'wle_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { email_address: 'john.doe@example.com', status: 'invited', updated_at: iso(T1) } },
  'email.created': {
    table: 'emails',
    id: 'ema_abcd',
    expected: {
      to_email_address: 'johndoe@acme.com', from_email_name: 'notifications', subject: '123456 is your verification code', slug: 'verification_code', status: 'queued',
      user_id: 'user_abcd', email_address_id: 'idn_abcd', delivered_by_clerk: true, _version: T0,
    },
  },
  'sms.created': {
    table: 'sms_messages',
    id: 'sms_2g7np7Hrk0SN6kj5EDMLDaKNL0S',
    expected: {
      to_phone_number: '+19876543210', from_phone_number: '+12345678901', slug: 'verification_code', status: 'queued', user_id: USER,
      phone_number_id: 'idn_2g7np7Hrk0SN6kj5EDMLDaKNL0S', delivered_by_clerk: true, created_at: iso(T0), updated_at: null, _version: T0,
    },
  },
  'subscription.created': subscription('incomplete', { active_at: null, past_due_at: null }),
  'subscription.updated': subscription('active', { active_at: iso(1716883300000) }),
  'subscription.active': subscription('active', { active_at: iso(1716883300000) }),
  'subscription.pastDue': subscription('past_due', { past_due_at: iso(1719561600000) }),
  'subscriptionItem.created': item('incomplete', 0),
  'subscriptionItem.updated': item('active', 1),
  'subscriptionItem.active': item('active', 2),
  'subscriptionItem.canceled': item('canceled', 3),
  'subscriptionItem.upcoming': item('upcoming', 4),
  'subscriptionItem.ended': item('ended', 5),
  'subscriptionItem.abandoned': item('abandoned', 6),
  'subscriptionItem.incomplete': item('incomplete', 7),
  'subscriptionItem.pastDue': item('past_due', 8),
  'subscriptionItem.freeTrialEnding': item('active', 9, true),
  'subscriptionItem.expired': item('expired', 10),
  'paymentAttempt.created': {
    table: 'payment_attempts',
    id: 'pa_2g7np7Hrk0SN6kj5EDMLDaKNL0S',
    expected: {
      ...billingPayer, payment_id: 'cpa_2g7np7Hrk0SN6kj5EDMLDaKNL0S', statement_id: 'stmt_2g7np7Hrk0SN6kj5EDMLDaKNL0S', status: 'pending', charge_type: 'recurring',
      amount: 2200, currency: 'USD', billing_date: iso(T0), paid_at: null, failed_at: null, failed_reason: null,
    },
  },
  'paymentAttempt.updated': { table: 'payment_attempts', id: 'pa_2g7np7Hrk0SN6kj5EDMLDaKNL0S', expected: { ...billingPayer, status: 'paid', paid_at: iso(T1), amount: 2200 } },
};

describe('the event type list', () => {
  it('has a case here for every projected type, and every issue #4 type is projected', () => {
    expect([...EVENT_TYPES].sort()).toEqual(Object.keys(CASES).sort());
    expect(EVENT_TYPES).toHaveLength(50);
  });

  it('has a bundled example for every projected type (clerk-sync send --all)', () => {
    expect(exampleTypes()).toEqual([...EVENT_TYPES].sort());
  });

  it('declares each type once, and isKnownEventType agrees', () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
    expect(isKnownEventType('user.created')).toBe(true);
    expect(isKnownEventType('user.exploded')).toBe(false);
  });
});

for (const backend of backends) {
  describe(`projecting each event type (${backend.name})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => database.drop());
    beforeEach(async () => truncateAll(database.db));

    for (const [type, c] of Object.entries(CASES)) {
      it(`${type} → ${c.table}`, async () => {
        const payload = exampleOf(type);
        const event = stored(payload);
        expect(await deliver(database.db, event)).toBe('applied');
        const r = await row(database.db, c.table, c.id);
        expect(r).toMatchObject({ id: c.id, ...c.expected });
        if (!('raw' in c.expected)) {
          expect(r!.raw).toEqual(payload.data);
          expect(r!._event_id).toBe(event.id);
        }
        const inbox = await database.db.query<{ status: string; applied_at: Date | null }>('select status, applied_at from clerk.webhook_events where id = $1', [event.id]);
        expect(inbox.rows[0]).toMatchObject({ status: 'applied' });
        expect(inbox.rows[0]!.applied_at).not.toBeNull();
        // the same event again (a replay) changes nothing
        expect(await deliver(database.db, event)).toBe('stale');
      });
    }

    it('resolves the primary email from primary_email_address_id, not the first address', async () => {
      const data = {
        ...fixture('user.created').data,
        email_addresses: [
          { id: 'idn_other', object: 'email_address', email_address: 'other@acme.com' },
          { id: 'idn_2g7np7Hrk0SN6kj5EDMLDaKNL0S', object: 'email_address', email_address: 'john@acme.com' },
        ],
      };
      await deliver(database.db, stored(envelope('user.created', data, T0)));
      expect((await row(database.db, 'users', USER))!.primary_email).toBe('john@acme.com');
    });

    it('reads the onboarding fields from public_metadata', async () => {
      const base = fixture('user.created').data;
      const meta = { role: 'admin', permissions: ['posts:write', 42], organizationId: 'org_x', isActive: false, onboardingComplete: true };
      await deliver(database.db, stored(envelope('user.created', { ...base, id: 'user_meta', public_metadata: meta }, T0)));
      expect(await row(database.db, 'users', 'user_meta')).toMatchObject({ role: 'admin', permissions: ['posts:write'], organization_id: 'org_x', is_active: false, onboarding_completed: true });
      await deliver(database.db, stored(envelope('user.created', { ...base, id: 'user_bare', public_metadata: {} }, T0)));
      expect(await row(database.db, 'users', 'user_bare')).toMatchObject({ role: null, permissions: [], organization_id: null, is_active: true, onboarding_completed: false });
      await deliver(database.db, stored(envelope('user.created', { ...base, id: 'user_nometa', public_metadata: undefined }, T0)));
      expect(await row(database.db, 'users', 'user_nometa')).toMatchObject({ is_active: true, onboarding_completed: false, permissions: [] });
    });

    it('takes verification_status from affiliation_verification before the deprecated verification', async () => {
      const data = { ...fixture('organizationDomain.updated').data, id: 'orgdm_aff', affiliation_verification: { status: 'unverified', strategy: 'email_code', attempts: 0 } };
      await deliver(database.db, stored(envelope('organizationDomain.updated', data, T1)));
      expect((await row(database.db, 'organization_domains', 'orgdm_aff'))!.verification_status).toBe('unverified');
    });

    it('reads sms created_at_ms (the schema name) as well as created_at (the example)', async () => {
      const { created_at: _drop, ...data } = fixture('sms.created').data;
      await deliver(database.db, stored(envelope('sms.created', { ...data, id: 'sms_ms', created_at_ms: T1 }, T1)));
      expect((await row(database.db, 'sms_messages', 'sms_ms'))!.created_at).toBe(iso(T1));
    });

    describe('alt/ fixture variants (older dashboard-catalog shapes, envelope timestamps in ms)', () => {
      for (const [name, payload] of altFixtures()) {
        it(name, async () => {
          expect(await deliver(database.db, stored(payload))).toBe('applied');
          const table = PROJECTIONS.find((p) => payload.type in p.events)!.table;
          const r = await row(database.db, table, payload.data.id as string);
          expect(r).toBeDefined();
          if (payload.type.endsWith('.deleted')) expect(r!.deleted_at).toBe(iso(payload.timestamp!));
          else expect(r!.raw).toEqual(payload.data);
        });
      }

      it('project the old shapes into the typed columns', async () => {
        const alt = Object.fromEntries(altFixtures());
        await deliver(database.db, stored(alt['user.created.dashboard-catalog']!));
        expect(await row(database.db, 'users', 'user_29w83sxmDNGwOuEthce5gg56FcC')).toMatchObject({
          primary_email: 'example@example.org', first_name: 'Example', external_id: '567772', _version: alt['user.created.dashboard-catalog']!.data.updated_at,
        });
        await deliver(database.db, stored(alt['organizationMembership.created.dashboard-catalog']!));
        expect(await row(database.db, 'organization_memberships', 'orgmem_29w9IptNja3mP8GDXpquBwN2qR9')).toMatchObject({
          organization_id: 'org_29w9IfBrPmcpi0IeBVaKtA7R94W', user_id: 'user_29w83sxmDNGwOuEthce5gg56FcC', role: 'admin', permissions: [],
        });
        await deliver(database.db, stored(alt['role.created.dashboard-catalog']!));
        expect((await row(database.db, 'roles', 'role_2Ym4Iu9JcfMpa4wsTmsRgnY83MX'))!.permissions).toEqual(['org:sys_memberships:read']);
      });

      it('the docs-overview user.created (same data, ins_123, no event_attributes) yields the same row', async () => {
        const alt = Object.fromEntries(altFixtures());
        await deliver(database.db, stored(alt['user.created.dashboard-catalog']!, { id: 'msg_same' }));
        const a = await row(database.db, 'users', 'user_29w83sxmDNGwOuEthce5gg56FcC');
        await truncateAll(database.db);
        await deliver(database.db, stored(alt['user.created.docs-overview']!, { id: 'msg_same' }));
        expect(await row(database.db, 'users', 'user_29w83sxmDNGwOuEthce5gg56FcC')).toEqual(a);
      });
    });

    describe('unknown types and payload errors', () => {
      it('an unknown type is ignored, and an ignored row is replayed once its type becomes known', async () => {
        const event = stored(fixture('user.created'));
        const older = new ProjectionRegistry(PROJECTIONS.filter((p) => p.table !== 'users'));
        expect(await deliver(database.db, event, { ...SOFT, registry: older })).toBe('ignored');
        expect(await row(database.db, 'users', USER)).toBeUndefined();
        const inbox = await database.db.query<{ status: string; payload: unknown }>('select status, payload from clerk.webhook_events where id = $1', [event.id]);
        expect(inbox.rows[0]!.status).toBe('ignored');

        // The upgrade: replay the ignored row, read back from the inbox, with a registry that knows the type.
        const [stored_] = (await database.db.query<{ id: string; type: string; clerk_timestamp: string; payload: Envelope; source: 'webhook' }>(
          `select id, type, clerk_timestamp, payload, source from clerk.webhook_events where status = 'ignored'`,
        )).rows;
        const replay = { id: stored_!.id, type: stored_!.type, clerkTimestamp: Number(stored_!.clerk_timestamp), payload: stored_!.payload, source: stored_!.source };
        expect(await deliver(database.db, replay)).toBe('applied');
        expect((await row(database.db, 'users', USER))!.first_name).toBe('John');
        expect((await database.db.query<{ status: string }>('select status from clerk.webhook_events where id = $1', [event.id])).rows[0]!.status).toBe('applied');
      });

      it('a type clerk-sync has never heard of is ignored and touches no table', async () => {
        expect(await deliver(database.db, stored(envelope('organization.exploded', { id: 'org_1' }, T0)))).toBe('ignored');
        expect(await row(database.db, 'organizations', 'org_1')).toBeUndefined();
      });

      it.each([
        ['no id', 'user.created', { object: 'user' }],
        ['an empty id', 'organization.updated', { id: '' }],
        ['a numeric id', 'role.created', { id: 42 }],
        ['a membership without organization', 'organizationMembership.created', { id: 'orgmem_1', public_user_data: { user_id: 'user_1' } }],
        ['a membership without user', 'organizationMembership.updated', { id: 'orgmem_1', organization: { id: 'org_1' } }],
        ['a session without user_id', 'session.created', { id: 'sess_1' }],
        ['a delete without id', 'user.deleted', { object: 'user', deleted: true }],
      ])('%s is a PayloadError (dead-lettered, not retried)', async (_name, type, data) => {
        const event = stored(envelope(type, data as Record<string, unknown>, T0));
        await expect(database.db.transaction((tx) => applyEvent(tx, event, SOFT))).rejects.toBeInstanceOf(PayloadError);
      });

      it('data that is not an object is a PayloadError', async () => {
        const event = stored({ type: 'user.created', data: null as unknown as Record<string, unknown>, timestamp: T0 });
        await expect(database.db.transaction((tx) => applyEvent(tx, event, SOFT))).rejects.toThrow(PayloadError);
      });
    });
  });
}
