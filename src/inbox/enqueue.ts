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
      `{"id":${JSON.stringify(i.id)},"type":${JSON.stringify(i.type)},"ts":${i.clerkTimestamp === null ? 'null' : Math.trunc(i.clerkTimestamp)},"inst":${JSON.stringify(i.instanceId)},"src":"${i.source ?? 'webhook'}","payload":${i.payload}}`,
  );
  const insert = `insert into ${quoteIdentifier(schema)}.webhook_events (id, type, clerk_timestamp, instance_id, payload, source${options.applied ? ', status, attempts, applied_at' : ''})
       select id, type, ts, inst, payload, src${options.applied ? `, 'applied', 1, now()` : ''}
       from json_to_recordset($1::json) as t(id text, type text, ts bigint, inst text, payload jsonb, src text)
       on conflict (id) do nothing
       returning id`;
  const result = await db.query<{ id: string }>(options.applied ? insert : `with ins as (${insert}) select id, pg_notify('${INBOX_CHANNEL}', '') from ins`, [`[${rows.join(',')}]`]);
  return new Set(result.rows.map((r) => r.id));
}

/**
 * Whether the delivery's id is stored, and if so whether with the same JSON (jsonb equality:
 * key order and whitespace aside). Asked only of the rare delivery answered as a duplicate, so no
 * hash of every body is kept for it.
 */
export async function storedPayloadMatch(db: Queryable, schema: string, item: Pick<InboxItem, 'id' | 'payload'>): Promise<'missing' | 'same' | 'different'> {
  const result = await db.query<{ same: boolean }>(`select payload = $2::jsonb as same from ${quoteIdentifier(schema)}.webhook_events where id = $1`, [item.id, item.payload]);
  const row = result.rows[0];
  return row === undefined ? 'missing' : row.same ? 'same' : 'different';
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
