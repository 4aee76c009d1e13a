/** Shared set-up of the backfill tests: apply dependencies, a fake API client, inbox queries. */
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/logger.js';
import type { ApplyDeps } from '../../src/apply/apply-batch.js';
import { drainEvents } from '../../src/apply/drain.js';
import { createClerkApi, type ClerkApiOptions } from '../../src/backfill/clerk-api.js';
import type { FakeClerkApi } from '../support/fake-clerk-api.js';

export const SCHEMA = 'clerk';

export function applyDeps(db: Db, effects = { welcomeEmail: true, adminWelcomeEmail: true, slackSignup: true, emailRelay: false }): ApplyDeps {
  return {
    db,
    schema: SCHEMA,
    logger: createLogger('silent'),
    context: { schema: SCHEMA, deleteMode: 'soft' },
    effects,
    retry: { maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 100 },
  };
}

export async function drain(db: Db) {
  return drainEvents(applyDeps(db), { batchSize: 500 });
}

export function fakeApi(fake: FakeClerkApi, options: Partial<ClerkApiOptions> = {}) {
  return createClerkApi({ secretKey: fake.secretKey, apiUrl: fake.url, requestsPerSecond: Infinity, sleep: async () => {}, ...options });
}

export async function inboxByType(db: Db): Promise<Record<string, number>> {
  const r = await db.query<{ type: string; n: number }>(`select type, count(*)::int as n from clerk.webhook_events where source = 'backfill' group by type order by type`);
  return Object.fromEntries(r.rows.map((row) => [row.type, row.n]));
}

export async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const r = await db.query<{ n: number }>(sql, params);
  return Number(r.rows[0]?.n ?? 0);
}

type Row = Record<string, unknown>;
const sortById = (rows: Row[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));

/**
 * The tables the backfill fills, read back and compared row by row with what the fake Backend
 * API holds: every entity present, with the fields the projections take from it.
 */
export async function expectMirrors(db: Db, fake: FakeClerkApi, expect: (value: unknown) => { toEqual(expected: unknown): void }) {
  const read = async (sql: string) => sortById((await db.query<Row>(sql)).rows);
  expect(await read('select id, first_name, primary_email from clerk.users where deleted_at is null')).toEqual(
    sortById(fake.users.map((u) => ({ id: u.id, first_name: u.first_name, primary_email: (u.email_addresses as Row[])[0]?.email_address ?? null }))),
  );
  expect(await read('select id, name, slug from clerk.organizations where deleted_at is null')).toEqual(sortById(fake.organizations.map((o) => ({ id: o.id, name: o.name, slug: o.slug }))));
  expect(await read('select id, organization_id, user_id, role from clerk.organization_memberships where deleted_at is null')).toEqual(
    sortById([...fake.memberships.values()].flat().map((m) => ({ id: m.id, organization_id: (m.organization as Row).id, user_id: (m.public_user_data as Row).user_id, role: m.role }))),
  );
  expect(await read('select id, key from clerk.roles where deleted_at is null')).toEqual(sortById(fake.roles.map((r) => ({ id: r.id, key: r.key }))));
  expect(await read('select id, key from clerk.permissions where deleted_at is null')).toEqual(sortById(fake.permissions.map((p) => ({ id: p.id, key: p.key }))));
  expect(await read('select id, email_address, status from clerk.invitations')).toEqual(sortById(fake.invitations.map((i) => ({ id: i.id, email_address: i.email_address, status: i.status }))));
  expect(await read('select id, organization_id, status from clerk.organization_invitations')).toEqual(
    sortById([...fake.organizationInvitations.values()].flat().map((i) => ({ id: i.id, organization_id: i.organization_id, status: i.status }))),
  );
  expect(await read('select id, organization_id, name from clerk.organization_domains where deleted_at is null')).toEqual(sortById(fake.domains.map((d) => ({ id: d.id, organization_id: d.organization_id, name: d.name }))));
  expect(await read('select id, email_address, status from clerk.waitlist_entries')).toEqual(sortById(fake.waitlistEntries.map((w) => ({ id: w.id, email_address: w.email_address, status: w.status }))));
  expect(await read('select id, status, plan_id from clerk.subscription_items')).toEqual(sortById(fake.subscriptionItems.map((i) => ({ id: i.id, status: i.status, plan_id: i.plan_id }))));
}

/** The fewest requests a full backfill of the fake can make: one per page of 500 of each listing (at least one), plus the users count. */
export function minimumRequests(fake: FakeClerkApi): number {
  const pages = (n: number) => Math.max(1, Math.ceil(n / 500));
  const invitationsBy = (items: Row[]) => ['pending', 'accepted', 'revoked', 'expired'].reduce((sum, s) => sum + pages(items.filter((i) => i.status === s).length), 0);
  return (
    pages(fake.permissions.length) + pages(fake.roles.length) + pages(fake.users.length) + 1 + pages(fake.organizations.length) +
    pages([...fake.memberships.values()].flat().length) + invitationsBy([...fake.organizationInvitations.values()].flat()) + pages(fake.domains.length) +
    invitationsBy(fake.invitations) + pages(fake.waitlistEntries.length) + pages(fake.subscriptionItems.length)
  );
}
