/**
 * Read-through for the sign-up race: the app needs the user's (or organization's) row right
 * after sign-up, before Clerk's webhook has arrived. `ensureEntity` returns the row, and when it
 * is missing fetches the entity from the Backend API and applies it at once: the synthetic inbox
 * row and its apply commit in one transaction, so the event is never applied twice (the worker
 * finds it applied) and the ordering guard still decides against any webhook that lands later.
 */
import type { Db, Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import { enqueueEvents } from '../inbox/enqueue.js';
import type { ClerkApi } from './clerk-api.js';
import { RESOURCES } from './resources.js';
import { syntheticEvent } from './synthetic.js';

export interface EnsureDeps {
  db: Db;
  schema: string;
  api: ClerkApi;
  /** Applies stored inbox events inside `tx` and marks them (the worker's apply, side effects off for backfill). */
  apply: (tx: Queryable, ids: readonly string[]) => Promise<unknown>;
  now?: () => number;
}

export type EnsuredRow = Record<string, unknown> & { id: string; deleted_at: Date | null };

const KINDS = {
  user: { table: 'users', resource: 'users' },
  organization: { table: 'organizations', resource: 'organizations' },
} as const;

export async function ensureEntity(deps: EnsureDeps, kind: keyof typeof KINDS, id: string): Promise<EnsuredRow | null> {
  const { table, resource } = KINDS[kind];
  const select = async (q: Queryable) =>
    ((await q.query<EnsuredRow>(`select * from ${quoteIdentifier(deps.schema)}.${table} where id = $1`, [id])).rows[0] ?? null);
  const existing = await select(deps.db);
  // A row with data, or a tombstone (final: Clerk never brings the id back), is the answer.
  if (existing && (existing.raw != null || existing.deleted_at != null)) return existing;
  const data = kind === 'user' ? await deps.api.getUser(id) : await deps.api.getOrganization(id);
  if (!data) return existing;
  const item = syntheticEvent(RESOURCES[resource].eventType, data, (deps.now ?? Date.now)());
  return deps.db.transaction(async (tx) => {
    await enqueueEvents(tx, deps.schema, [item]);
    await deps.apply(tx, [item.id]);
    return select(tx);
  });
}
