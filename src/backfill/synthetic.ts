/**
 * Synthetic inbox events (STYLE practice 19): what backfill, reconcile and read-through find in
 * the Backend API becomes an inbox row with `source = 'backfill'`, so it goes through the same
 * ordering guard and apply loop as a webhook, shows up in the admin event log, and fires no side
 * effects. The id `backfill:<type>:<entity id>:<version>` is deterministic, so running a backfill
 * twice over unchanged data stores nothing new.
 *
 * The envelope timestamp is the entity's `updated_at`, not the time of the backfill: on a version
 * tie with a webhook, the webhook's later delivery timestamp (and then its `msg_` id, which sorts
 * after `backfill:`) wins, so backfilled data never replaces webhook data of the same version.
 * An `updated_at` beyond the time of the backfill (`at`) plus the tolerance is not believed
 * (projections/version.ts): the envelope is then `at`, so the event competes with `at` plus the
 * tolerance, and the id names that version. Such an entity is stored again by every run, each
 * time with a later version, which is what lets a backfill repair a row an unbounded version froze.
 */
import type { InboxItem } from '../inbox/enqueue.js';
import { FUTURE_TOLERANCE_MS } from '../projections/index.js';

function toMillis(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null;
  return Math.trunc(value < 1e12 ? value * 1000 : value);
}

// jsonb stores neither \u0000 nor unpaired surrogates, and one such string would fail the whole
// page's insert on every retry. JSON.stringify escapes exactly those (paired surrogates are
// written raw), so an escape preceded by an even number of backslashes is one of them.
const JSONB_UNSAFE = /(?<!\\)((?:\\\\)*)\\u(0000|d[89a-f][0-9a-f]{2})/gi;

/** The entity a synthetic event is about, read from its id `backfill:<type>:<entity id>:<version>`. */
export function entityIdOf(item: InboxItem): string {
  return item.id.split(':').slice(2, -1).join(':');
}

export function syntheticEvent(type: string, data: Record<string, unknown>, at: number): InboxItem {
  const updatedAt = toMillis(data.updated_at);
  const timestamp = updatedAt === null || updatedAt > at + FUTURE_TOLERANCE_MS ? at : updatedAt;
  const version = updatedAt === null ? at : Math.min(updatedAt, timestamp + FUTURE_TOLERANCE_MS);
  const payload = JSON.stringify({ type, object: 'event', data, timestamp }).replace(JSONB_UNSAFE, '$1\\ufffd');
  return {
    id: `backfill:${type}:${String(data.id)}:${version}`,
    type,
    clerkTimestamp: timestamp,
    instanceId: null,
    payload,
    source: 'backfill',
  };
}
