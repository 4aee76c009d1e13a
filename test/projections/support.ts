/**
 * Helpers for the projection tests: fixtures, event builders, an apply that goes through the
 * inbox the way the worker does (store, then apply + mark in one transaction), and row readers
 * that make pg and PGlite results comparable.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Db, Queryable } from '../../src/core/db.js';
import { applyEvent, markEvent, type ApplyContext, type ApplyStatus, type StoredEvent } from '../../src/projections/index.js';
import { toMillis } from '../../src/projections/version.js';

export const fixturesDir = new URL('../fixtures/clerk-payloads/', import.meta.url);
export const examplesDir = new URL('../../src/clerk/examples/', import.meta.url);

export type Envelope = { type: string; data: Record<string, unknown>; timestamp?: number; [k: string]: unknown };

export function fixture(name: string): Envelope {
  return JSON.parse(readFileSync(new URL(`${name}.json`, fixturesDir), 'utf8')) as Envelope;
}

export function altFixtures(): Array<[string, Envelope]> {
  const dir = new URL('alt/', fixturesDir);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.slice(0, -5), JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Envelope]);
}

/** The bundled example of a type (src/clerk/examples: fixtures plus the ones built from the field list). */
export function example(type: string): Envelope {
  return JSON.parse(readFileSync(new URL(`${type}.json`, examplesDir), 'utf8')) as Envelope;
}

export function exampleTypes(): string[] {
  return readdirSync(examplesDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

let counter = 0;

/** A stored event as the inbox would hold it; `ts` is the envelope timestamp (seconds or ms). */
export function stored(payload: Envelope, options: { id?: string; ts?: number; source?: 'webhook' | 'backfill' } = {}): StoredEvent {
  const timestamp = options.ts ?? payload.timestamp;
  return {
    id: options.id ?? `msg_t${String(++counter).padStart(6, '0')}`,
    type: payload.type,
    clerkTimestamp: toMillis(timestamp),
    payload: { ...payload, ...(timestamp === undefined ? {} : { timestamp }) },
    source: options.source ?? 'webhook',
  };
}

export function envelope(type: string, data: Record<string, unknown>, timestamp?: number): Envelope {
  return { object: 'event', type, data, ...(timestamp === undefined ? {} : { timestamp }) };
}

export const SOFT: ApplyContext = { schema: 'clerk', deleteMode: 'soft' };

/** Stores the event in the inbox (if new) and applies + marks it in one transaction, like the worker. */
export async function deliver(db: Db, event: StoredEvent, ctx: ApplyContext = SOFT): Promise<ApplyStatus> {
  await insertInbox(db, event, ctx.schema);
  return db.transaction(async (tx) => {
    const status = await applyEvent(tx, event, ctx);
    await markEvent(tx, ctx.schema, event.id, status);
    return status;
  });
}

export async function insertInbox(q: Queryable, event: StoredEvent, schema = 'clerk'): Promise<void> {
  await q.query(
    `insert into "${schema}".webhook_events (id, type, clerk_timestamp, payload, source) values ($1, $2, $3, $4::jsonb, $5) on conflict (id) do nothing`,
    [event.id, event.type, event.clerkTimestamp, JSON.stringify(event.payload), event.source],
  );
}

/** Plain values: bigint strings → numbers, dates → ISO strings; synced_at dropped (it is wall-clock). */
export function normalise(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'synced_at') continue;
    if (value instanceof Date) out[key] = value.toISOString();
    else if ((key === '_version' || key === '_event_ts' || key === 'amount') && typeof value === 'string') out[key] = Number(value);
    else out[key] = value;
  }
  return out;
}

export async function row(db: Queryable, table: string, id: string, schema = 'clerk'): Promise<Record<string, any> | undefined> {
  const result = await db.query(`select * from "${schema}".${table} where id = $1`, [id]);
  return result.rows[0] ? normalise(result.rows[0]) : undefined;
}

export async function rows(db: Queryable, table: string, schema = 'clerk'): Promise<Array<Record<string, any>>> {
  const result = await db.query(`select * from "${schema}".${table} order by id`);
  return result.rows.map(normalise);
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export const PROJECTION_TABLES = [
  'users', 'organizations', 'organization_memberships', 'sessions', 'roles', 'permissions', 'organization_invitations', 'invitations',
  'organization_domains', 'waitlist_entries', 'emails', 'sms_messages', 'subscriptions', 'subscription_items', 'payment_attempts',
];

/** Empties every projection table and the inbox: delete, not truncate, which is far slower for a few rows. */
export async function truncateAll(db: Queryable, schema = 'clerk'): Promise<void> {
  for (const table of [...PROJECTION_TABLES, 'webhook_events']) await db.query(`delete from "${schema}".${table}`);
}
