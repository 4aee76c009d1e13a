/**
 * Rows frozen by an unbounded version (projections/version.ts): a stored `_version` beyond the
 * database's clock plus the tolerance refuses every ordinary update, and the upsert lets any
 * event replace it. A backfilled entity that is new in the inbox does that by being applied; one
 * already stored unchanged (the same synthetic id as an earlier run) would be skipped as a
 * duplicate and leave the row frozen. These are the stored events to apply again for such rows.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import type { InboxItem } from '../inbox/enqueue.js';
import { FUTURE_TOLERANCE_MS } from '../projections/index.js';
import { entityIdOf } from './synthetic.js';

/** Of synthetic `items` (already in the inbox), those whose entity's row in `table` is frozen. */
export async function frozenRowEvents(db: Queryable, schema: string, table: string, items: readonly InboxItem[]): Promise<InboxItem[]> {
  if (items.length === 0) return [];
  const r = await db.query<{ event_id: string }>(
    `select u.event_id from unnest($1::text[], $2::text[]) as u(event_id, entity_id)
       join ${quoteIdentifier(schema)}.${quoteIdentifier(table)} t on t.id = u.entity_id
      where t._version > (extract(epoch from now()) * 1000)::bigint + ${FUTURE_TOLERANCE_MS}`,
    [items.map((i) => i.id), items.map(entityIdOf)],
  );
  const frozen = new Set(r.rows.map((row) => row.event_id));
  return items.filter((i) => frozen.has(i.id));
}
