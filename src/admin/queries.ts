/**
 * The admin page's reads. Each uses an index where the inbox can be large: the event log pages by
 * (received_at, id) keyset on `webhook_events_received_idx`, the chart reads the last hour by the
 * same index, type filters use `webhook_events_type_received_idx`. Projection tables are optional
 * (an instance may run before their migration): lookups skip a missing table instead of failing.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export interface EventRow {
  id: string;
  type: string;
  status: string;
  source: string;
  received_at: Date;
  applied_at: Date | null;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  clerk_timestamp: string | number | null;
  entity_id: string | null;
  /** received_at to the microsecond (a JS Date keeps milliseconds), for keyset paging. */
  received_key: string;
}

export interface EventDetail extends EventRow {
  payload: Record<string, unknown>;
  instance_id: string | null;
}

export interface EventFilter {
  type?: string;
  status?: string;
  source?: string;
  /** Received at or after. */
  from?: Date;
  /** Received before. */
  to?: Date;
  /** An entity id (user_…, org_…): events whose data is about it. */
  entity?: string;
  /** Keyset: events strictly older than this (received_at, id). */
  before?: { at: string; id: string };
  limit?: number;
}

const EVENT_COLUMNS = `id, type, status, source, received_at, applied_at, attempts, last_error, next_attempt_at, clerk_timestamp, payload->'data'->>'id' as entity_id,
  to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as received_key`;

/** Matches events whose data is, or belongs to, the entity (a membership names its user and organization). */
const ABOUT_ENTITY = `(payload->'data'->>'id' = $E or payload->'data'->>'user_id' = $E or payload->'data'->'public_user_data'->>'user_id' = $E
  or payload->'data'->'organization'->>'id' = $E or payload->'data'->>'organization_id' = $E)`;

export async function listEvents(db: Queryable, schema: string, filter: EventFilter): Promise<EventRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (filter.type) where.push(`type = ${param(filter.type)}`);
  if (filter.status) where.push(`status = ${param(filter.status)}`);
  if (filter.source) where.push(`source = ${param(filter.source)}`);
  if (filter.from) where.push(`received_at >= ${param(filter.from)}`);
  if (filter.to) where.push(`received_at < ${param(filter.to)}`);
  if (filter.entity) {
    const p = param(filter.entity);
    where.push(ABOUT_ENTITY.replaceAll('$E', () => p));
  }
  if (filter.before) where.push(`(received_at, id) < (${param(filter.before.at)}::timestamptz, ${param(filter.before.id)})`);
  const limit = Math.min(500, Math.max(1, filter.limit ?? 50));
  const r = await db.query<EventRow>(
    `select ${EVENT_COLUMNS} from ${quoteIdentifier(schema)}.webhook_events
      ${where.length ? `where ${where.join(' and ')}` : ''}
      order by received_at desc, id desc limit ${limit}`,
    params,
  );
  return r.rows;
}

export async function getEvent(db: Queryable, schema: string, id: string): Promise<EventDetail | null> {
  const r = await db.query<EventDetail>(`select ${EVENT_COLUMNS}, payload, instance_id from ${quoteIdentifier(schema)}.webhook_events where id = $1`, [id]);
  return r.rows[0] ?? null;
}

/**
 * Every event type stored (for the filter's suggestions). A loose index scan on
 * `webhook_events_type_received_idx`: one index probe per distinct type, not a pass over the rows.
 */
export async function storedTypes(db: Queryable, schema: string): Promise<string[]> {
  const t = `${quoteIdentifier(schema)}.webhook_events`;
  const r = await db.query<{ type: string }>(
    `with recursive types(type) as (
       (select type from ${t} order by type limit 1)
       union all
       select (select w.type from ${t} w where w.type > types.type order by w.type limit 1) from types where types.type is not null
     )
     select type from types where type is not null`,
  );
  return r.rows.map((row) => row.type);
}

export interface MinuteBucket {
  minute: Date;
  status: string;
  n: number;
}

export async function eventsPerMinute(db: Queryable, schema: string, minutes = 60): Promise<MinuteBucket[]> {
  const r = await db.query<{ minute: Date; status: string; n: string | number }>(
    `select date_trunc('minute', received_at) as minute, status, count(*) as n
       from ${quoteIdentifier(schema)}.webhook_events
      where received_at >= date_trunc('minute', now()) - make_interval(mins => $1::int - 1)
      group by 1, 2 order by 1`,
    [minutes],
  );
  return r.rows.map((row) => ({ minute: new Date(row.minute), status: row.status, n: Number(row.n) }));
}

export interface OutboxRow {
  id: string | number;
  event_id: string | null;
  kind: string;
  key: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  sent_at: Date | null;
}

export async function recentOutbox(db: Queryable, schema: string, options: { status?: string; limit?: number } = {}): Promise<OutboxRow[]> {
  const r = await db.query<OutboxRow>(
    `select id, event_id, kind, key, status, attempts, last_error, next_attempt_at, created_at, sent_at
       from ${quoteIdentifier(schema)}.outbox
      where ($1::text is null or status = $1)
      order by created_at desc, id desc limit $2`,
    [options.status ?? null, Math.min(500, options.limit ?? 50)],
  );
  return r.rows;
}

export async function tableExists(db: Queryable, schema: string, name: string): Promise<boolean> {
  const r = await db.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [`${quoteIdentifier(schema)}.${name}`]);
  return r.rows[0]?.ok === true;
}

export interface EntityLookup {
  kind: 'user' | 'organization';
  id: string;
  row: Record<string, unknown> | null;
  memberships: Record<string, unknown>[];
  roles: Record<string, unknown>[];
  permissions: Array<{ organization_id: string; permission: string }>;
  events: EventRow[];
}

/** A user by id or email address, or an organization by id or slug. */
export async function lookupEntity(db: Queryable, schema: string, query: string): Promise<EntityLookup | null> {
  const s = quoteIdentifier(schema);
  const q = query.trim();
  if (!q) return null;
  const has = async (t: string) => tableExists(db, schema, t);
  let kind: 'user' | 'organization' = q.startsWith('org_') ? 'organization' : 'user';
  let row: Record<string, unknown> | null = null;
  let id = q;
  if (kind === 'user' && (await has('users'))) {
    const r = q.includes('@')
      ? await db.query(
          `select * from ${s}.users where lower(primary_email) = lower($1)
              or exists (select 1 from jsonb_array_elements(coalesce(email_addresses, '[]'::jsonb)) e where lower(e->>'email_address') = lower($1))
            order by (deleted_at is null) desc, updated_at desc nulls last limit 1`,
          [q],
        )
      : await db.query(`select * from ${s}.users where id = $1`, [q]);
    row = r.rows[0] ?? null;
  }
  if (!row && !q.includes('@') && !q.startsWith('user_') && (await has('organizations'))) {
    const r = await db.query(`select * from ${s}.organizations where id = $1 or slug = $1 order by (id = $1) desc limit 1`, [q]);
    if (r.rows[0]) {
      row = r.rows[0];
      kind = 'organization';
    }
  }
  if (row) id = String(row.id);
  else if (q.includes('@')) return null;

  const memberships = (await has('organization_memberships'))
    ? (
        await db.query(
          kind === 'user'
            ? `select m.*, o.name as organization_name from ${s}.organization_memberships m left join ${s}.organizations o on o.id = m.organization_id where m.user_id = $1 order by m.created_at`
            : `select m.*, u.primary_email as user_email from ${s}.organization_memberships m left join ${s}.users u on u.id = m.user_id where m.organization_id = $1 order by m.created_at limit 200`,
          [id],
        )
      ).rows
    : [];
  const roleKeys = [...new Set(memberships.map((m) => m.role).filter((r): r is string => typeof r === 'string'))];
  const roles = roleKeys.length && (await has('roles')) ? (await db.query(`select * from ${s}.roles where key = any($1::text[]) order by key`, [roleKeys])).rows : [];
  const permissions =
    kind === 'user' && (await has('user_permissions'))
      ? (await db.query<{ organization_id: string; permission: string }>(`select organization_id, permission from ${s}.user_permissions where user_id = $1 order by 1, 2`, [id])).rows
      : [];
  const events = await listEvents(db, schema, { entity: id, limit: 20 });
  if (!row && events.length === 0 && memberships.length === 0) return null;
  return { kind, id, row, memberships, roles, permissions, events };
}
