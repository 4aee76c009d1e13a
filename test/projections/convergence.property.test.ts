/**
 * Convergence, as a property: random histories of users, organizations, memberships, sessions and
 * roles (ties, envelope timestamps in seconds or milliseconds, deletes before creates, unbumped
 * membership deletes, updated_at in year 9999) are delivered in order, shuffled, reversed and
 * with random duplicates, one event at a time and in batches; the tables and the ABAC views always
 * equal a simple model's final state. A failure prints fast-check's seed and path: rerun with `{ seed, path }` in
 * fc.assert to replay it.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent, applyEvents, FUTURE_TOLERANCE_MS, type StoredEvent } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { normalise, SOFT } from './support.js';
import { seededRandom } from '../support/seeded-random.js';

const T = 1_750_000_000_000;
const NUM_RUNS = 80;

type Data = Record<string, unknown>;
interface Ev {
  id: string;
  type: string;
  /** The envelope timestamp as sent: seconds or milliseconds. */
  timestamp: number;
  data: Data;
}

// ---- generators ------------------------------------------------------------------------------

/** Few distinct instants so that ties are common; each may be sent in seconds or in ms. */
const instant = fc.integer({ min: 0, max: 4 }).map((i) => T + i * 1000);
const envelopeTs = fc.tuple(instant, fc.boolean()).map(([ms, inSeconds]) => (inSeconds ? ms / 1000 : ms));
/** Now and then an updated_at far in the future (year 9999), which the key bounds by the envelope timestamp. */
const FAR_FUTURE = 253_402_300_799_000;
const version = fc.oneof({ weight: 6, arbitrary: instant }, { weight: 1, arbitrary: fc.constant(FAR_FUTURE) });
const updatedAt = fc.option(version, { nil: undefined, freq: 4 });
const perms = fc.subarray(['org:a:read', 'org:a:write', 'org:b:read']);

const USERS = ['user_1', 'user_2', 'user_3'];
const ORGS = ['org_1', 'org_2'];
const MEMBERSHIPS: Record<string, [string, string]> = { mem_1: ['org_1', 'user_1'], mem_2: ['org_1', 'user_2'], mem_3: ['org_2', 'user_3'], mem_4: ['org_2', 'user_1'] };
const ROLE_KEYS: Record<string, string> = { role_1: 'org:editor', role_2: 'org:admin' };
const SESSION_STATUS: Record<string, string> = { 'session.created': 'active', 'session.pending': 'pending', 'session.ended': 'ended', 'session.removed': 'removed', 'session.revoked': 'revoked' };

const withUpdatedAt = (data: Data, at: number | undefined): Data => (at === undefined ? data : { ...data, updated_at: at });

const userEvent = fc.record({ id: fc.constantFrom(...USERS), kind: fc.constantFrom('user.created', 'user.updated', 'user.updated', 'user.deleted'), name: fc.constantFrom('Ann', 'Bo', 'Cy'), last: fc.option(fc.constantFrom('Lee', 'Ng'), { nil: undefined }), active: fc.constantFrom(true, false, undefined), at: updatedAt, ts: envelopeTs })
  .map(({ id, kind, name, last, active, at, ts }) => ({
    type: kind,
    timestamp: ts,
    data: kind === 'user.deleted' ? { id, object: 'user', deleted: true } : withUpdatedAt({ id, object: 'user', first_name: name, ...(last ? { last_name: last } : {}), public_metadata: active === undefined ? {} : { isActive: active } }, at),
  }));

const orgEvent = fc.record({ id: fc.constantFrom(...ORGS), kind: fc.constantFrom('organization.created', 'organization.updated', 'organization.deleted'), name: fc.constantFrom('Acme', 'Beta'), at: updatedAt, ts: envelopeTs })
  .map(({ id, kind, name, at, ts }) => ({
    type: kind,
    timestamp: ts,
    data: kind === 'organization.deleted' ? { id, object: 'organization', deleted: true } : withUpdatedAt({ id, object: 'organization', name, slug: name.toLowerCase() }, at),
  }));

// Membership deletes carry the whole membership, with whatever updated_at it had (not bumped).
const membershipEvent = fc.record({
  id: fc.constantFrom(...Object.keys(MEMBERSHIPS)),
  kind: fc.constantFrom('organizationMembership.created', 'organizationMembership.updated', 'organizationMembership.deleted'),
  role: fc.constantFrom('org:editor', 'org:admin', 'org:member'),
  roleName: fc.option(fc.constantFrom('Editor', 'Admin'), { nil: undefined }),
  permissions: perms,
  at: version,
  ts: envelopeTs,
}).map(({ id, kind, role, roleName, permissions, at, ts }) => {
  const [org, user] = MEMBERSHIPS[id]!;
  return { type: kind, timestamp: ts, data: { id, object: 'organization_membership', role, ...(roleName ? { role_name: roleName } : {}), permissions, organization: { id: org }, public_user_data: { user_id: user }, created_at: T, updated_at: at } };
});

const sessionEvent = fc.record({ n: fc.constantFrom(1, 2, 3), kind: fc.constantFrom(...Object.keys(SESSION_STATUS)), at: instant, active: instant, city: fc.option(fc.constantFrom('Lyon', 'Oslo'), { nil: undefined }), ts: envelopeTs })
  .map(({ n, kind, at, active, city, ts }) => ({
    type: kind,
    timestamp: ts,
    data: { id: `sess_${n}`, object: 'session', user_id: USERS[n - 1], client_id: 'client_1', status: SESSION_STATUS[kind], last_active_at: active, ...(city ? { latest_activity: { city, is_mobile: city === 'Oslo' } } : {}), expire_at: T + 1e9, abandon_at: T + 2e9, created_at: T, updated_at: at },
  }));

const roleEvent = fc.record({ id: fc.constantFrom(...Object.keys(ROLE_KEYS)), kind: fc.constantFrom('role.created', 'role.updated', 'role.deleted'), permissions: perms, at: updatedAt, ts: envelopeTs })
  .map(({ id, kind, permissions, at, ts }) => ({
    type: kind,
    timestamp: ts,
    data: kind === 'role.deleted'
      ? { id, object: 'role', deleted: true }
      : withUpdatedAt({ id, object: 'role', key: ROLE_KEYS[id], name: id, permissions: permissions.map((key) => ({ object: 'permission', id: `perm_${key}`, key })) }, at),
  }));

/** Svix ids: distinct, short, mixed case, so that id tie-breaks (by code point) really happen. */
const history = fc
  .array(fc.oneof(userEvent, orgEvent, membershipEvent, sessionEvent, roleEvent), { minLength: 1, maxLength: 18 })
  .chain((events) =>
    fc.uniqueArray(fc.stringMatching(/^[a-zA-Z0-9]{1,3}$/), { minLength: events.length, maxLength: events.length })
      .map((ids) => events.map((e, i): Ev => ({ ...e, id: `msg_${ids[i]}` }))),
  );

// ---- the model ---------------------------------------------------------------------------------

const ms = (t: number): number => (t < 1e12 ? t * 1000 : t);
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
type Key = [number, number, string];
const keyOf = (e: Ev): Key => [typeof e.data.updated_at === 'number' ? Math.min(e.data.updated_at, ms(e.timestamp) + FUTURE_TOLERANCE_MS) : ms(e.timestamp), ms(e.timestamp), e.id];
const greater = (a: Key, b: Key): boolean => (a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] > b[2]);

interface ModelRow {
  id: string;
  winner: Ev | null;
  deletedAt: number | null;
}

/** Per entity: the data of the greatest (version, envelope ts, svix id) data-carrying event, and the earliest delete. */
function model(events: Ev[], prefix: string): Map<string, ModelRow> {
  const rows = new Map<string, ModelRow>();
  for (const e of events) {
    if (!e.type.startsWith(prefix)) continue;
    const id = e.data.id as string;
    const r = rows.get(id) ?? { id, winner: null, deletedAt: null };
    const isDelete = e.type.endsWith('.deleted');
    const carriesData = !isDelete || e.data.deleted !== true;
    if (carriesData && (r.winner === null || greater(keyOf(e), keyOf(r.winner)))) r.winner = e;
    if (isDelete) {
      const at = Math.max(keyOf(e)[0], keyOf(e)[1]);
      r.deletedAt = r.deletedAt === null ? at : Math.min(r.deletedAt, at);
    }
    rows.set(id, r);
  }
  return rows;
}

function expectedTables(events: Ev[]) {
  const common = (r: ModelRow) => ({
    id: r.id,
    deleted_at: iso(r.deletedAt),
    raw: r.winner?.data ?? null,
    _version: r.winner ? keyOf(r.winner)[0] : null,
    _event_ts: r.winner ? keyOf(r.winner)[1] : null,
    _event_id: r.winner?.id ?? null,
  });
  const sorted = <T extends { id: string }>(rows: T[]) => rows.sort((a, b) => (a.id < b.id ? -1 : 1));
  const users = sorted([...model(events, 'user.').values()].map((r) => {
    const meta = (r.winner?.data.public_metadata ?? {}) as Data;
    // A deleted user is not active, whatever its metadata says.
    const d = r.winner?.data;
    const fullName = d ? [d.first_name, d.last_name].filter((x) => typeof x === 'string').join(' ') || null : null;
    return { ...common(r), first_name: (d?.first_name as string) ?? null, full_name: fullName, is_active: meta.isActive !== false && r.deletedAt === null };
  }));
  const organizations = sorted([...model(events, 'organization.').values()].map((r) => ({ ...common(r), name: (r.winner?.data.name as string) ?? null })));
  const memberships = sorted([...model(events, 'organizationMembership.').values()].map((r) => ({
    ...common(r),
    role: (r.winner?.data.role as string) ?? null,
    role_name: (r.winner?.data.role_name as string) ?? null,
    permissions: (r.winner?.data.permissions as string[]) ?? [],
    organization_id: MEMBERSHIPS[r.id]![0],
    user_id: MEMBERSHIPS[r.id]![1],
  })));
  const sessions = sorted([...model(events, 'session.').values()].map((r) => ({
    ...common(r),
    status: r.winner!.data.status as string,
    city: ((r.winner!.data.latest_activity as Data | undefined)?.city as string) ?? null,
    is_mobile: ((r.winner!.data.latest_activity as Data | undefined)?.is_mobile as boolean) ?? null,
    ended_at: ['session.ended', 'session.removed', 'session.revoked'].includes(r.winner!.type) ? iso(keyOf(r.winner!)[0]) : null,
  })));
  const roles = sorted([...model(events, 'role.').values()].map((r) => ({
    ...common(r),
    key: (r.winner?.data.key as string) ?? null,
    permissions: ((r.winner?.data.permissions as Data[] | undefined) ?? []).map((p) => p.key as string),
  })));

  // Derived facts, as the views define them.
  const tombstoned = (rows: Array<{ id: string; deleted_at: string | null }>, id: string) => rows.some((r) => r.id === id && r.deleted_at !== null);
  const active = memberships.filter((m) => m.deleted_at === null && !tombstoned(users, m.user_id) && !tombstoned(organizations, m.organization_id));
  const permissions = new Set<string>();
  for (const m of active) {
    if (users.some((u) => u.id === m.user_id && !u.is_active)) continue;
    // The role's current permissions when it is synced, none when it is deleted, the membership's
    // own snapshot when the role is unknown.
    const known = roles.filter((r) => r.key === m.role);
    const live = known.filter((r) => r.deleted_at === null);
    const held = live.length > 0 ? live.flatMap((r) => r.permissions) : known.length > 0 ? [] : m.permissions;
    for (const p of held) permissions.add(`${m.user_id}|${m.organization_id}|${p}`);
  }
  return {
    users,
    organizations,
    organization_memberships: memberships,
    sessions,
    roles,
    active: active.map((m) => m.id).sort(),
    permissions: [...permissions].sort(),
  };
}

// ---- the database side ---------------------------------------------------------------------------

const COLUMNS: Record<string, string> = {
  users: 'id, deleted_at, raw, _version, _event_ts, _event_id, first_name, full_name, is_active',
  organizations: 'id, deleted_at, raw, _version, _event_ts, _event_id, name',
  organization_memberships: 'id, deleted_at, raw, _version, _event_ts, _event_id, role, role_name, permissions, organization_id, user_id',
  sessions: 'id, deleted_at, raw, _version, _event_ts, _event_id, status, city, is_mobile, ended_at',
  roles: 'id, deleted_at, raw, _version, _event_ts, _event_id, key, permissions',
};

function toStored(e: Ev): StoredEvent {
  return { id: e.id, type: e.type, clerkTimestamp: ms(e.timestamp), payload: { object: 'event', type: e.type, timestamp: e.timestamp, data: e.data }, source: 'webhook' };
}


function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function deliveries(events: Ev[], seed: number): Record<string, Ev[]> {
  const random = seededRandom(seed);
  const shuffled = shuffle(events, random);
  const duplicates = events.filter(() => random() < 0.4);
  return {
    'in order': events,
    shuffled,
    reversed: [...events].reverse(),
    'shuffled with duplicates': shuffle([...events, ...duplicates, ...duplicates.slice(0, 2)], random),
  };
}

for (const backend of backends) {
  describe(`convergence property (${backend.name})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.create();
    });
    afterAll(async () => database.drop());

    async function state() {
      const tables: Record<string, unknown[]> = {};
      for (const [table, columns] of Object.entries(COLUMNS)) {
        tables[table] = (await database.db.query(`select ${columns} from clerk.${table} order by id`)).rows.map(normalise);
      }
      const active = (await database.db.query<{ id: string }>('select id from clerk.active_organization_memberships order by id')).rows.map((r) => r.id);
      const permissions = (await database.db.query<{ user_id: string; organization_id: string; permission: string }>('select * from clerk.user_permissions')).rows
        .map((r) => `${r.user_id}|${r.organization_id}|${r.permission}`)
        .sort();
      return { ...tables, active, permissions };
    }

    it(
      'the tables equal the model whatever the order and duplication of deliveries',
      async () => {
        await fc.assert(
          fc.asyncProperty(history, fc.integer(), async (events, seed) => {
            const expected = expectedTables(events);
            for (const [order, list] of Object.entries(deliveries(events, seed))) {
              // One event at a time, then in batches as the worker applies them (one statement per
              // table, several events about one row in a batch), with a batch size drawn from the seed.
              const batchSize = 2 + (Math.abs(seed) % Math.max(1, list.length));
              for (const mode of ['one by one', `batches of ${batchSize}`]) {
                await database.db.transaction(async (tx) => {
                  // delete, not truncate: much cheaper on Postgres for a few rows, run hundreds of times
                  for (const table of Object.keys(COLUMNS)) await tx.query(`delete from clerk.${table}`);
                  if (mode === 'one by one') for (const e of list) await applyEvent(tx, toStored(e), SOFT);
                  else for (let i = 0; i < list.length; i += batchSize) await applyEvents(tx, list.slice(i, i + batchSize).map(toStored), SOFT);
                });
                expect(await state(), `${order}, ${mode}`).toEqual(expected);
              }
            }
          }),
          { numRuns: NUM_RUNS },
        );
      },
      120_000,
    );
  });
}
