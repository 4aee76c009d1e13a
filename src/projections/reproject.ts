/**
 * `clerk-sync reproject`: recompute the typed columns of every projected row from the data it
 * holds, after an upgrade added columns (migration 0007) or changed how one is read. It rewrites
 * no ordering key and competes with no event: a row that a newer event overwrites meanwhile is
 * left as that event wrote it (Projection.refresh).
 *
 * Each batch and the table's new position commit together in `clerk.reproject_state`, so a run
 * that is killed resumes at its last batch; a run that finished leaves the state for `status`
 * and the next run starts over.
 */
import type { Db } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import type { Projection, UpsertRow } from './projection.js';

export interface ReprojectProgress {
  table: string;
  /** Rows of this table done so far (by this run and the one it resumes). */
  done: number;
  total: number;
}

export interface ReprojectOptions {
  schema: string;
  projections: readonly Projection[];
  /** Rows per transaction. @default 500 */
  batchSize?: number;
  /** Start over even when an earlier run did not finish. */
  restart?: boolean;
  onProgress?: (progress: ReprojectProgress) => void;
}

export interface ReprojectResult {
  /** Whether this run continued one that had stopped. */
  resumed: boolean;
  tables: Array<{ table: string; rows: number; updated: number }>;
}

interface StateRow {
  table_name: string;
  after_id: string | null;
  rows_done: string | number;
  finished_at: Date | string | null;
}

export async function reproject(db: Db, options: ReprojectOptions): Promise<ReprojectResult> {
  const s = quoteIdentifier(options.schema);
  const batchSize = options.batchSize ?? 500;
  const state = new Map((await db.query<StateRow>(`select table_name, after_id, rows_done, finished_at from ${s}.reproject_state`)).rows.map((r) => [r.table_name, r]));
  const unfinished = [...state.values()].some((r) => r.finished_at === null);
  const resumed = unfinished && !options.restart;
  if (!resumed) {
    await db.query(`delete from ${s}.reproject_state`);
    state.clear();
  }
  const tables: ReprojectResult['tables'] = [];
  for (const projection of options.projections) {
    const known = state.get(projection.table);
    if (known?.finished_at) {
      tables.push({ table: projection.table, rows: Number(known.rows_done), updated: 0 });
      continue;
    }
    let after = known?.after_id ?? '';
    let done = Number(known?.rows_done ?? 0);
    let updated = 0;
    const counted = await db.query<{ n: string | number }>(`select count(*) as n from ${s}.${projection.table} where raw is not null`);
    const total = Number(counted.rows[0]?.n ?? 0);
    options.onProgress?.({ table: projection.table, done, total });
    for (;;) {
      const batch = await db.transaction(async (tx) => {
        // The type of the event the row holds decides a few columns (a session's status); the
        // inbox still has it unless retention removed it, and refresh then keeps those columns.
        const rows = await tx.query<{ id: string; raw: Record<string, unknown>; version: string; event_ts: string; event_id: string; type: string | null }>(
          `select t.id, t.raw, t._version as version, t._event_ts as event_ts, t._event_id as event_id, w.type
           from ${s}.${projection.table} t left join ${s}.webhook_events w on w.id = t._event_id
           where t.raw is not null and t._event_id is not null and t.id > $1
           order by t.id limit $2`,
          [after, batchSize],
        );
        if (rows.rows.length === 0) return null;
        const upserts: UpsertRow[] = rows.rows.map((r) => ({
          id: r.id,
          data: r.raw,
          facts: { type: r.type ?? '', key: { version: Number(r.version), eventTs: Number(r.event_ts), eventId: r.event_id } },
        }));
        const changed = await projection.refresh(tx, options.schema, upserts);
        const last = rows.rows[rows.rows.length - 1]!.id;
        await tx.query(
          `insert into ${s}.reproject_state (table_name, after_id, rows_done) values ($1, $2, $3)
           on conflict (table_name) do update set after_id = excluded.after_id, rows_done = excluded.rows_done`,
          [projection.table, last, done + rows.rows.length],
        );
        return { last, count: rows.rows.length, changed };
      });
      if (!batch) break;
      after = batch.last;
      done += batch.count;
      updated += batch.changed;
      options.onProgress?.({ table: projection.table, done, total: Math.max(total, done) });
    }
    await db.query(
      `insert into ${s}.reproject_state (table_name, after_id, rows_done, finished_at) values ($1, $2, $3, now())
       on conflict (table_name) do update set finished_at = now(), rows_done = excluded.rows_done`,
      [projection.table, after || null, done],
    );
    tables.push({ table: projection.table, rows: done, updated });
  }
  return { resumed, tables };
}
