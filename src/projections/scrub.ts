/**
 * Scrub mode (CLERK_SYNC_DELETE_MODE=scrub): once a user is deleted, what clerk-sync keeps about
 * them is reduced to ids, types, statuses and timestamps: the users row's personal columns (via
 * its `_scrubbed` flag, see projection.ts), the `raw` and personal columns of rows that belong to
 * the user in other tables, and the payloads of their events in the inbox. Events that arrive
 * after the deletion are scrubbed as they are applied, so the result does not depend on order.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import type { Projection } from './projection.js';

const KEPT_KEYS = new Set(['id', 'object', 'type', 'deleted', 'status', 'slug', 'role', 'permissions']);
const keep = (key: string): boolean => KEPT_KEYS.has(key) || /_(id|at|ms)$/.test(key);

/** Keeps ids, types, statuses and timestamps, at any depth; drops everything else, and metadata whole. */
export function scrubJson(value: unknown, keptKey = true): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => scrubJson(item, keptKey)).filter((item) => item !== undefined);
    return items.length > 0 || keptKey ? items : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      // Metadata is free-form: whatever the app put there, ids-looking keys included, goes.
      if (key.endsWith('metadata')) continue;
      const scrubbed = scrubJson(inner, keep(key));
      if (scrubbed !== undefined) out[key] = scrubbed;
    }
    return Object.keys(out).length > 0 || keptKey ? out : undefined;
  }
  return keptKey ? value : undefined;
}

/** The envelope keeps its type and times; event_attributes (client IP, user agent) go. */
export function scrubPayload(payload: Record<string, unknown>): Record<string, unknown> {
  const data = (scrubJson(payload.data ?? {}) as Record<string, unknown> | undefined) ?? {};
  const out: Record<string, unknown> = { type: payload.type, object: payload.object, timestamp: payload.timestamp, data, scrubbed: true };
  if (payload.instance_id !== undefined) out.instance_id = payload.instance_id;
  return out;
}

/** Inbox rows that are about the user: their own events and those naming them as user, member or payer. */
const userEventsWhere = `((type like 'user.%' and payload->'data'->>'id' = $1) or payload->'data'->>'user_id' = $1
  or payload->'data'->'public_user_data'->>'user_id' = $1 or payload->'data'->'payer'->>'user_id' = $1)`;

async function scrubInbox(tx: Queryable, schema: string, where: string, param: string): Promise<void> {
  const s = quoteIdentifier(schema);
  const rows = await tx.query<{ id: string; payload: Record<string, unknown> }>(
    `select id, payload from ${s}.webhook_events where ${where} and coalesce(payload->>'scrubbed', '') <> 'true' for update skip locked`,
    [param],
  );
  for (const row of rows.rows) {
    await tx.query(`update ${s}.webhook_events set payload = $2::jsonb where id = $1`, [row.id, JSON.stringify(scrubPayload(row.payload))]);
  }
}

async function scrubRows(tx: Queryable, schema: string, projection: Projection, column: string, value: string): Promise<void> {
  const s = quoteIdentifier(schema);
  const rows = await tx.query<{ id: string; raw: unknown }>(`select id, raw from ${s}.${projection.table} where ${column} = $1 for update skip locked`, [value]);
  const erase = projection.personalColumns.filter((c) => c !== 'raw').map((c) => `, ${c} = null`).join('');
  for (const row of rows.rows) {
    const raw = row.raw === null ? null : JSON.stringify(scrubJson(row.raw));
    await tx.query(`update ${s}.${projection.table} set raw = $2::jsonb${erase} where id = $1`, [row.id, raw]);
  }
}

/**
 * Called when a user's tombstone is written in scrub mode (under lockUserForScrub). Rows another
 * transaction holds are skipped rather than waited for (waiting could deadlock with it): that
 * transaction is applying an event about this user, and its scrubIfUserErased waits for this one
 * to commit, then scrubs what it wrote.
 */
export async function scrubUser(tx: Queryable, schema: string, userId: string, projections: readonly Projection[]): Promise<void> {
  await scrubInbox(tx, schema, userEventsWhere, userId);
  for (const projection of projections) {
    if (projection.ownerColumn && !projection.scrubbable) await scrubRows(tx, schema, projection, projection.ownerColumn, userId);
  }
}

/**
 * Orders a user's scrubbing delete against concurrent applies of events about that user (a
 * transaction-scoped advisory lock: the user row may not exist yet, so a row lock cannot do it).
 * The delete takes it exclusively, the others shared, each before touching any row. Whichever
 * comes second sees the first one's committed work: the delete finds the new row, or the event
 * finds the user scrubbed and scrubs its own row.
 */
export async function lockUserForScrub(tx: Queryable, schema: string, userId: string, mode: 'exclusive' | 'shared'): Promise<void> {
  const fn = mode === 'exclusive' ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
  await tx.query(`select ${fn}(hashtext('clerk-sync:scrub'), hashtext($1))`, [`${schema}:${userId}`]);
}

/** Called (under lockUserForScrub) after an event about `userId` was applied in scrub mode: if that user is already scrubbed, so is what the event brought. */
export async function scrubIfUserErased(tx: Queryable, schema: string, userId: string, projection: Projection, rowId: string, eventId: string): Promise<void> {
  const s = quoteIdentifier(schema);
  const erased = await tx.query(`select 1 from ${s}.users where id = $1 and _scrubbed`, [userId]);
  if (erased.rows.length === 0) return;
  await scrubInbox(tx, schema, 'id = $1', eventId);
  if (!projection.scrubbable) await scrubRows(tx, schema, projection, 'id', rowId);
}
