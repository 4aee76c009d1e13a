/**
 * Adds a side effect to the outbox inside the caller's transaction (the apply transaction, or a
 * hook's), so the effect exists exactly when the change that caused it commits. `(kind, key)` is
 * unique: a redelivered or replayed event finds its effect already there and adds nothing.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export const OUTBOX_CHANNEL = 'clerk_sync_outbox';

export interface OutboxItem {
  /** e.g. `email.welcome`, or a kind you registered with `outbox.register`. */
  kind: string;
  /** What the effect is about; one row per (kind, key), ever. */
  key: string;
  /** JSON-serialisable; what the sender needs, nothing more. */
  payload: unknown;
  /** The inbox event that caused it. */
  eventId?: string | null;
}

/**
 * Returns the new row's id, or null when (kind, key) already had one (nothing changes then).
 *
 * @example
 * hooks.on('user.created', async (event, tx) => {
 *   if (event.source === 'backfill') return;
 *   await enqueueOutbox(tx, 'clerk', { kind: 'crm.sync', key: String(event.payload.data.id), payload: { id: event.payload.data.id }, eventId: event.id });
 * });
 */
export async function enqueueOutbox(tx: Queryable, schema: string, item: OutboxItem): Promise<number | null> {
  return (await enqueueOutboxMany(tx, schema, [item]))[0] ?? null;
}

/** Several effects in one statement; returns the ids of the rows that are new. */
export async function enqueueOutboxMany(tx: Queryable, schema: string, items: readonly OutboxItem[]): Promise<number[]> {
  const unique = new Map<string, OutboxItem>();
  for (const item of items) {
    if (!item.kind || !item.key) throw new TypeError('enqueueOutbox: kind and key must be non-empty strings');
    const id = JSON.stringify([item.kind, item.key]);
    if (!unique.has(id)) unique.set(id, item);
  }
  if (unique.size === 0) return [];
  const rows = [...unique.values()];
  // The notify is sent at commit (Postgres holds notifications until then, and sends one per
  // channel and payload), so a dispatcher never wakes for a row it cannot see yet; a rolled-back
  // apply sends nothing.
  const result = await tx.query<{ id: string }>(
    `with ins as (
       insert into ${quoteIdentifier(schema)}.outbox (event_id, kind, key, payload)
       select event_id, kind, key, payload::jsonb from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as i(event_id, kind, key, payload)
       on conflict (kind, key) do nothing
       returning id
     )
     select id, pg_notify('${OUTBOX_CHANNEL}', '') from ins`,
    [rows.map((i) => i.eventId ?? null), rows.map((i) => i.kind), rows.map((i) => i.key), rows.map((i) => JSON.stringify(i.payload ?? null))],
  );
  return result.rows.map((r) => Number(r.id));
}
