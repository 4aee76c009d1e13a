/**
 * What a projection is (one per table, declared as data in entities/) and the one upsert every
 * projection shares: the ordering guard inside `on conflict ... do update ... where`, so
 * concurrent workers are safe without locks, and `rowCount` tells applied from stale.
 * Column names and SQL types come from the Drizzle table, so they are written down once.
 */
import { getTableColumns, getTableName } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import { compareKeys, FUTURE_TOLERANCE_MS, toMillis, type OrderingKey } from './version.js';
import { PayloadError } from './types.js';

export type Data = Record<string, unknown>;

/** What an extractor may know about the event besides its data. */
export interface EventFacts {
  type: string;
  key: OrderingKey;
}

export type Extractor = (data: Data, facts: EventFacts) => unknown;

/**
 * upsert: the event carries the object. delete: it leaves a tombstone. delete-with-data: a delete
 * that carries the whole object (organizationMembership.deleted), whose data also competes like an
 * upsert's, so a membership known only through its deletion still says whose it was.
 */
export type EventAction = 'upsert' | 'delete' | 'delete-with-data';

/** Columns every projection has, filled here rather than by the entity modules. */
const COMMON = ['id', 'createdAt', 'updatedAt', 'deletedAt', 'raw', 'syncedAt', 'version', 'eventTs', 'eventId', 'scrubbed'] as const;
type CommonKey = (typeof COMMON)[number];
type ColumnKey<T extends PgTable> = Exclude<keyof T['$inferInsert'] & string, CommonKey>;

export interface ProjectionSpec<T extends PgTable> {
  table: T;
  events: Readonly<Record<string, EventAction>>;
  /** The shape the projection relies on; a payload that does not fit is a PayloadError. */
  payload: z.ZodType<Data>;
  /** The typed columns, each read from the payload; values are coerced to the column's SQL type. */
  columns: { [K in ColumnKey<T>]?: Extractor };
  /** Scrub mode: columns erased (with `raw`) when the user the row is about is deleted. */
  personal?: ReadonlyArray<ColumnKey<T>>;
  /** Scrub mode: the column naming the user a row is about (`id` for users themselves). */
  owner?: ColumnKey<T> | 'id';
}

export interface Projection {
  readonly table: string;
  readonly events: Readonly<Record<string, EventAction>>;
  /** Does the table keep a `_scrubbed` flag (users)? */
  readonly scrubbable: boolean;
  readonly ownerColumn: string | null;
  readonly personalColumns: readonly string[];
  /** The user this event is about, for scrub mode. */
  ownerOf(data: Data, facts: EventFacts): string | null;
  /**
   * Writes each row under the ordering guard, all in one statement; where several rows share an
   * id only the newest competes. Returns the event ids whose row changed.
   */
  upsert(tx: Queryable, schema: string, rows: readonly UpsertRow[]): Promise<Set<string>>;
  /**
   * Sets or lowers each row's tombstone, all in one statement; where several share an id only the
   * earliest competes (the first of equals). Returns the event ids whose row changed.
   */
  tombstone(tx: Queryable, schema: string, rows: readonly TombstoneRow[], scrub: boolean): Promise<Set<string>>;
  /**
   * Recomputes the typed columns of rows from the data they already hold (`raw`), for columns
   * added after the rows were written (`clerk-sync reproject`). A row whose `_event_id` changed
   * since it was read is left alone: the newer event wrote every column. A column the data does
   * not determine (an extractor that needs the event type, when the inbox no longer has it)
   * keeps its value. Returns how many rows were updated.
   */
  refresh(tx: Queryable, schema: string, rows: readonly UpsertRow[]): Promise<number>;
  /** Parses the payload's data for an event that carries the object; throws PayloadError. */
  parse(type: string, data: Data): Data;
  /** The columns the projection writes, for the schema-agreement test. */
  readonly columnNames: readonly string[];
}

export interface UpsertRow {
  id: string;
  data: Data;
  facts: EventFacts;
}

export interface TombstoneRow {
  id: string;
  /** Milliseconds. */
  deletedAt: number;
  eventId: string;
}

interface Column {
  name: string;
  cast: string;
  value(raw: unknown): string | null;
}

/**
 * Every value travels as text (one `text[]` parameter per column, unnested and cast in SQL), so a
 * batch of any size is one statement with a fixed text, prepared once.
 */
function coerce(sqlType: string): (raw: unknown) => string | null {
  if (sqlType === 'jsonb') return (v) => (v === undefined || v === null ? null : JSON.stringify(v));
  if (sqlType.startsWith('timestamp')) return toIso;
  if (sqlType === 'text[]') return (v) => arrayLiteral(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (sqlType === 'boolean') return (v) => (typeof v === 'boolean' ? String(v) : null);
  if (sqlType === 'integer' || sqlType === 'bigint') return (v) => (typeof v === 'number' && Number.isFinite(v) ? String(Math.trunc(v)) : null);
  return (v) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);
}

/** A Postgres array literal: every element quoted, so no element can be read as NULL or split. */
function arrayLiteral(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

function castFor(sqlType: string): string {
  return sqlType.startsWith('timestamp') ? 'timestamptz' : sqlType;
}

export function defineProjection<T extends PgTable>(spec: ProjectionSpec<T>): Projection {
  const table = getTableName(spec.table);
  const all = getTableColumns(spec.table) as Record<string, PgColumn>;
  const sqlName = (key: string): string => {
    const column = all[key];
    if (!column) throw new Error(`${table}: no column ${key}`);
    return column.name;
  };
  const typed: Array<Column & { extract: Extractor }> = Object.entries(spec.columns as Record<string, Extractor | undefined>)
    .filter((entry): entry is [string, Extractor] => entry[1] !== undefined)
    .map(([key, extract]) => {
      const type = all[key]!.getSQLType();
      return { name: sqlName(key), cast: castFor(type), value: coerce(type), extract };
    });
  const scrubbable = 'scrubbed' in all;
  const personal = new Set([...(spec.personal ?? []).map(sqlName), 'raw']);
  const ownerColumn = spec.owner ? sqlName(spec.owner) : null;
  const ownerExtract = spec.owner && spec.owner !== 'id' ? (spec.columns as Record<string, Extractor | undefined>)[spec.owner] : undefined;

  // Statements are built once per schema name.
  const upserts = new Map<string, string>();
  const upsertSql = (schema: string): string => {
    let text = upserts.get(schema);
    if (text) return text;
    const names = ['id', ...typed.map((c) => c.name), 'created_at', 'updated_at', 'raw', 'synced_at', '_version', '_event_ts', '_event_id'];
    const casts = ['text', ...typed.map((c) => c.cast), 'timestamptz', 'timestamptz', 'jsonb', null, 'bigint', 'bigint', 'text'];
    const params = casts.filter((cast) => cast !== null).map((_, i) => `$${i + 1}::text[]`);
    let p = 0;
    const values = casts.map((cast) => (cast === null ? 'now()' : `u.c${++p}::${cast}`));
    const set = names
      .filter((name) => name !== 'id')
      .map((name) => {
        if (name === 'synced_at') return 'synced_at = now()';
        if (scrubbable && personal.has(name)) return `${name} = case when t._scrubbed then null else excluded.${name} end`;
        return `${name} = excluded.${name}`;
      });
    text =
      `insert into ${quoteIdentifier(schema)}.${table} as t (${names.join(', ')}) ` +
      `select ${values.join(', ')} from unnest(${params.join(', ')}) as u(${params.map((_, i) => `c${i + 1}`).join(', ')}) ` +
      `on conflict (id) do update set ${set.join(', ')} ` +
      // The svix id compares by code point ("C") so the winner does not depend on the database's collation.
      `where t._version is null or (t._version, t._event_ts, t._event_id collate "C") < (excluded._version, excluded._event_ts, excluded._event_id collate "C") ` +
      // A stored version beyond the clock plus the tolerance was never bounded (written before
      // versions were, or by an event without an envelope timestamp): any event replaces it, or
      // the row would refuse every real update until that date.
      `or t._version > (extract(epoch from now()) * 1000)::bigint + ${FUTURE_TOLERANCE_MS} ` +
      'returning id';
    upserts.set(schema, text);
    return text;
  };

  const refreshes = new Map<string, string>();
  const refreshSql = (schema: string): string => {
    let text = refreshes.get(schema);
    if (text) return text;
    const set = typed.map((c, i) => {
      const value = `coalesce(u.c${i + 3}::${c.cast}, t.${c.name})`;
      return scrubbable && personal.has(c.name) ? `${c.name} = case when t._scrubbed then null else ${value} end` : `${c.name} = ${value}`;
    });
    const params = ['id', 'event_id', ...typed.map((_, i) => `c${i + 3}`)];
    text =
      `update ${quoteIdentifier(schema)}.${table} as t set ${[...set, 'synced_at = now()'].join(', ')} ` +
      `from unnest(${params.map((_, i) => `$${i + 1}::text[]`).join(', ')}) as u(${params.join(', ')}) ` +
      `where t.id = u.id and t._event_id collate "C" = u.event_id collate "C"`;
    refreshes.set(schema, text);
    return text;
  };

  const tombstones = new Map<string, string>();
  const tombstoneSql = (schema: string, scrub: boolean): string => {
    const cacheKey = `${schema}:${scrub}`;
    let text = tombstones.get(cacheKey);
    if (text) return text;
    const erase = scrub ? [...personal].map((name) => `${name} = null`) : [];
    text =
      `insert into ${quoteIdentifier(schema)}.${table} as t (id, deleted_at, synced_at${scrub ? ', _scrubbed' : ''}) ` +
      `select u.id, u.deleted_at::timestamptz, now()${scrub ? ', true' : ''} from unnest($1::text[], $2::text[]) as u(id, deleted_at) ` +
      // least(): several deletes of one id (replays, backfill) converge on the earliest.
      `on conflict (id) do update set deleted_at = least(t.deleted_at, excluded.deleted_at), synced_at = now()${scrub ? `, _scrubbed = true, ${erase.join(', ')}` : ''} ` +
      `where t.deleted_at is null or excluded.deleted_at < t.deleted_at${scrub ? ' or not t._scrubbed' : ''} ` +
      'returning id';
    tombstones.set(cacheKey, text);
    return text;
  };

  return {
    table,
    events: spec.events,
    scrubbable,
    ownerColumn,
    personalColumns: [...personal],
    columnNames: ['id', ...typed.map((c) => c.name), 'created_at', 'updated_at', 'deleted_at', 'raw', 'synced_at', '_version', '_event_ts', '_event_id', ...(scrubbable ? ['_scrubbed'] : [])],
    ownerOf(data, facts) {
      if (!spec.owner) return null;
      const value = spec.owner === 'id' ? data.id : ownerExtract?.(data, facts);
      return typeof value === 'string' && value !== '' ? value : null;
    },
    parse(type, data) {
      const result = spec.payload.safeParse(data);
      if (!result.success) {
        const issue = result.error.issues[0];
        throw new PayloadError(type, `${issue?.path.join('.') || 'data'}: ${issue?.message ?? 'invalid'}`);
      }
      return result.data;
    },
    async upsert(tx, schema, rows) {
      const winners = [...newestPerId(rows).values()].sort(byId);
      if (winners.length === 0) return new Set();
      const columns: Array<Array<string | null>> = Array.from({ length: typed.length + 7 }, () => []);
      for (const { id, data, facts } of winners) {
        const values = [
          id,
          ...typed.map((c) => c.value(c.extract(data, facts))),
          toIso(data.created_at ?? data.created_at_ms),
          toIso(data.updated_at),
          JSON.stringify(data),
          String(facts.key.version),
          String(facts.key.eventTs),
          facts.key.eventId,
        ];
        values.forEach((value, i) => columns[i]!.push(value));
      }
      const result = await tx.query<{ id: string }>(upsertSql(schema), columns);
      const byRowId = new Map(winners.map((w) => [w.id, w.facts.key.eventId]));
      return new Set(result.rows.map((r) => byRowId.get(r.id)!));
    },
    async refresh(tx, schema, rows) {
      if (rows.length === 0 || typed.length === 0) return 0;
      const columns: Array<Array<string | null>> = Array.from({ length: typed.length + 2 }, () => []);
      for (const { id, data, facts } of [...rows].sort(byId)) {
        [id, facts.key.eventId, ...typed.map((c) => c.value(c.extract(data, facts)))].forEach((value, i) => columns[i]!.push(value));
      }
      const result = await tx.query(refreshSql(schema), columns);
      return result.rowCount ?? 0;
    },
    async tombstone(tx, schema, rows, scrub) {
      const earliest = new Map<string, TombstoneRow>();
      for (const row of rows) {
        const known = earliest.get(row.id);
        if (!known || row.deletedAt < known.deletedAt) earliest.set(row.id, row);
      }
      const winners = [...earliest.values()].sort(byId);
      if (winners.length === 0) return new Set();
      const result = await tx.query<{ id: string }>(tombstoneSql(schema, scrub && scrubbable), [winners.map((w) => w.id), winners.map((w) => new Date(w.deletedAt).toISOString())]);
      const byRowId = new Map(winners.map((w) => [w.id, w.eventId]));
      return new Set(result.rows.map((r) => byRowId.get(r.id)!));
    },
  };
}

/** One statement cannot update a row twice, and only the newest of one id's rows could win anyway. */
function newestPerId(rows: readonly UpsertRow[]): Map<string, UpsertRow> {
  const newest = new Map<string, UpsertRow>();
  for (const row of rows) {
    const known = newest.get(row.id);
    if (!known || compareKeys(known.facts.key, row.facts.key) < 0) newest.set(row.id, row);
  }
  return newest;
}

/** Rows go in id order, so concurrent batches lock them in the same order and wait rather than deadlock. */
const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function toIso(value: unknown): string | null {
  const ms = toMillis(value);
  return ms === null ? null : new Date(ms).toISOString();
}

// Small readers for payload fields, shared by the entity modules.
export const read = {
  str(value: unknown): string | null {
    return typeof value === 'string' && value !== '' ? value : null;
  },
  obj(value: unknown): Data | null {
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Data) : null;
  },
  at(data: Data, ...path: string[]): unknown {
    let current: unknown = data;
    for (const key of path) {
      const o = read.obj(current);
      if (!o) return undefined;
      current = o[key];
    }
    return current;
  },
};
