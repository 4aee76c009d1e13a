/**
 * Inserts verified deliveries into the inbox, many per statement: `on conflict do nothing`
 * makes a redelivered svix id a no-op, and the returned ids tell new from duplicate. The same
 * statement notifies workers (Postgres folds identical notifications of one transaction into one),
 * unless the rows are written `applied` because the caller applies them in the same transaction
 * (apply at intake): no worker has anything to do with those.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export interface InboxItem {
  id: string;
  type: string;
  clerkTimestamp: number | null;
  instanceId: string | null;
  /** The raw body as text: stored as jsonb. */
  payload: string;
  /** The body already parsed by the receiver, so applying at intake need not parse it again. */
  parsed?: { type: string; data: Record<string, unknown> };
  bodySha256: string;
  source?: 'webhook' | 'backfill';
}

export const INBOX_CHANNEL = 'clerk_sync_inbox';

/**
 * Returns the ids that were inserted now; the others already existed. Ids must be distinct.
 * `applied`: write them as applied by this transaction (one attempt), which must then apply them
 * before it commits (apply/intake.ts).
 */
export async function enqueueEvents(db: Queryable, schema: string, items: readonly InboxItem[], options: { applied?: boolean } = {}): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  // One json parameter for the whole batch, each payload spliced in as the JSON text it already
  // is: no per-row array escaping in the driver (the cost of text[] parameters on 2-4 KB bodies),
  // and the statement text stays the same whatever the batch size (one plan).
  const rows = items.map(
    (i) =>
      `{"id":${JSON.stringify(i.id)},"type":${JSON.stringify(i.type)},"ts":${i.clerkTimestamp === null ? 'null' : Math.trunc(i.clerkTimestamp)},"inst":${JSON.stringify(i.instanceId)},"sha":${JSON.stringify(i.bodySha256)},"src":"${i.source ?? 'webhook'}","payload":${i.payload}}`,
  );
  const insert = `insert into ${quoteIdentifier(schema)}.webhook_events (id, type, clerk_timestamp, instance_id, payload, body_sha256, source${options.applied ? ', status, attempts, applied_at' : ''})
       select id, type, ts, inst, payload, sha, src${options.applied ? `, 'applied', 1, now()` : ''}
       from json_to_recordset($1::json) as t(id text, type text, ts bigint, inst text, payload jsonb, sha text, src text)
       on conflict (id) do nothing
       returning id`;
  const result = await db.query<{ id: string }>(options.applied ? insert : `with ins as (${insert}) select id, pg_notify('${INBOX_CHANNEL}', '') from ins`, [`[${rows.join(',')}]`]);
  return new Set(result.rows.map((r) => r.id));
}

/** The stored body hashes of the given ids (to warn about a reused id with another body). */
export async function storedBodyHashes(db: Queryable, schema: string, ids: readonly string[]): Promise<Map<string, string | null>> {
  const result = await db.query<{ id: string; body_sha256: string | null }>(
    `select id, body_sha256 from ${quoteIdentifier(schema)}.webhook_events where id = any($1::text[])`,
    [ids],
  );
  return new Map(result.rows.map((r) => [r.id, r.body_sha256]));
}

export interface StoredEventState {
  id: string;
  type: string;
  status: string;
}

/** One inbox event's type and status, without its payload; null when the id is not stored. */
export async function inboxEventState(db: Queryable, schema: string, id: string): Promise<StoredEventState | null> {
  const result = await db.query<StoredEventState>(`select id, type, status from ${quoteIdentifier(schema)}.webhook_events where id = $1`, [id]);
  return result.rows[0] ?? null;
}
