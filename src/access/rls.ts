/**
 * Row-level security from the synced memberships (`clerk-sync/rls`): run a transaction as a Clerk
 * user, declare the policies of an organization-scoped table (Drizzle or plain SQL), and check
 * that the connection really is subject to them. The policies call the SQL functions of migration
 * 0006 (member_organizations, permitted_organizations), which follow the same rule as can().
 */
import { sql } from 'drizzle-orm';
import { pgPolicy, type PgPolicy, type PgPolicyToOption } from 'drizzle-orm/pg-core';
import type { Queryable } from '../core/db.js';
import { ClerkSyncError } from '../core/errors.js';
import { DEFAULT_SCHEMA, quoteIdentifier } from '../db/identifiers.js';

/** Clerk ids are `user_` plus base62; anything else cannot be a user and is refused up front. */
const USER_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Permission keys as Clerk writes them (`org:notes:write`), so they can be inlined into DDL. */
const PERMISSION = /^[A-Za-z0-9_:.-]{1,128}$/;
const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const SET_USER = `select set_config('clerk.user_id', $1, true)`;

function checkUserId(userId: unknown): string {
  if (typeof userId !== 'string' || !USER_ID.test(userId)) {
    throw new TypeError('withClerkUser needs a Clerk user id (letters, digits, "_" or "-", at most 128 characters)');
  }
  return userId;
}

/** A transaction object: clerk-sync's Db, PGlite's and Drizzle's `transaction(fn)`. */
interface Transactional<Tx> {
  transaction<R>(fn: (tx: Tx) => Promise<R>): Promise<R>;
}
interface Client {
  query(text: string, params?: unknown[]): Promise<unknown>;
}
interface Pool {
  connect(): Promise<Client & { release(error?: Error | boolean): void }>;
  totalCount: number;
}

async function setUser(tx: unknown, userId: string): Promise<void> {
  const t = tx as { query?: unknown; execute?: (q: string) => Promise<unknown> };
  // Drizzle's transaction has `query` too, but as the relational query builder, not a function.
  // Its execute() gets a plain string rather than an sql`` object, which would have to come from
  // the app's own copy of drizzle-orm; the id is inlined, safe because checkUserId admits only
  // letters, digits, "_" and "-".
  if (typeof t.query === 'function') await (tx as Client).query(SET_USER, [userId]);
  else if (typeof t.execute === 'function') await t.execute(`select set_config('clerk.user_id', '${checkUserId(userId)}', true)`);
  else throw new TypeError('withClerkUser: the transaction has neither query() nor execute()');
}

async function inClient<T>(client: Client, userId: string, fn: (tx: Client) => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    await client.query(SET_USER, [userId]);
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/**
 * Runs `fn` in one transaction in which `clerk.current_user_id()` is `userId`, so the policies of
 * your tables see that user. The setting is transaction-local (`set_config(…, true)`): it ends with
 * the transaction and never leaks to the next user of a pooled connection, which makes it safe
 * behind PgBouncer or Neon's pooler in transaction mode.
 * Takes a clerk-sync Db, a PGlite instance, a Drizzle database, a `pg.Pool` or a connected
 * `pg.Client`/`PoolClient`.
 * @example
 * const notes = await withClerkUser(db, auth.userId, (tx) => tx.select().from(notesTable));
 */
export function withClerkUser<Tx, T>(db: Transactional<Tx>, userId: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
export function withClerkUser<C extends Client, T>(db: Pool | C, userId: string, fn: (tx: Client) => Promise<T>): Promise<T>;
export async function withClerkUser<T>(db: unknown, userId: string, fn: (tx: never) => Promise<T>): Promise<T> {
  const id = checkUserId(userId);
  const run = fn as (tx: unknown) => Promise<T>;
  const d = db as Partial<Transactional<unknown> & Pool & Client>;
  if (typeof d.transaction === 'function') {
    return d.transaction(async (tx) => {
      await setUser(tx, id);
      return run(tx);
    });
  }
  if (typeof d.connect === 'function' && typeof d.totalCount === 'number') {
    const client = await (d as Pool).connect();
    try {
      return await inClient(client, id, run);
    } finally {
      client.release();
    }
  }
  if (typeof d.query === 'function') return inClient(d as Client, id, run);
  throw new TypeError('withClerkUser needs a database: a clerk-sync Db, PGlite, Drizzle, a pg.Pool or a pg.Client');
}

/**
 * Throws `rls_not_enforced` unless the connection is subject to row-level security on every table
 * named: the role is no superuser and has no BYPASSRLS, each table has RLS enabled, and RLS is
 * forced where the role owns the table (owners bypass it otherwise). Call it at start-up with the
 * app's connection.
 */
export async function assertRowLevelSecurity(db: Queryable | Client, tables: string[]): Promise<void> {
  const q = async <R>(text: string, params?: unknown[]) => ((await (db as Client).query(text, params)) as { rows: R[] }).rows;
  const current = (await q<{ name: string; bypass: boolean }>(
    `select current_user as name, coalesce((select rolsuper or rolbypassrls from pg_roles where rolname = current_user), false) as bypass`,
  ))[0];
  if (!current || current.bypass) {
    throw new ClerkSyncError('rls_not_enforced', `The role "${current?.name ?? '?'}" is a superuser or has BYPASSRLS: row-level security does not apply to it; connect as a role without them`);
  }
  for (const table of tables) {
    if (typeof table !== 'string' || !/^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/.test(table)) {
      throw new TypeError(`assertRowLevelSecurity: "${String(table)}" is not a table name (lowercase, optionally schema-qualified)`);
    }
    const [t] = await q<{ enabled: boolean; forced: boolean; owner: boolean }>(
      `select c.relrowsecurity as enabled, c.relforcerowsecurity as forced, pg_has_role(current_user, c.relowner, 'USAGE') as owner
         from pg_class c where c.oid = to_regclass($1)`,
      [table],
    );
    if (!t) throw new ClerkSyncError('rls_not_enforced', `The table ${table} does not exist or is not visible to "${current.name}"`);
    if (!t.enabled) throw new ClerkSyncError('rls_not_enforced', `Row-level security is not enabled on ${table}: alter table ${table} enable row level security`);
    if (t.owner && !t.forced) {
      throw new ClerkSyncError('rls_not_enforced', `"${current.name}" owns ${table} and row-level security is not forced: connect as a non-owner role, or alter table ${table} force row level security`);
    }
  }
}

export interface OrganizationPolicyOptions {
  /** The column holding the Clerk organization id (a name, or a Drizzle column). */
  column: string | { name: string };
  /** The permission needed to read a row; without it, any active member of the organization reads. */
  read?: string;
  /** The permission needed to insert, update or delete a row. */
  write: string;
  /** Policy names start with this. @default 'clerk_org' */
  name?: string;
  /** The roles the policies apply to. @default 'public' */
  to?: PgPolicyToOption;
  /** The schema clerk-sync writes to. @default 'clerk' */
  schema?: string;
}

interface Expressions {
  names: Record<'select' | 'insert' | 'update' | 'delete', string>;
  read: string;
  write: string;
}

function checkPermission(value: unknown, what: string): string {
  if (typeof value !== 'string' || !PERMISSION.test(value)) {
    throw new TypeError(`The ${what} permission must be a permission key (letters, digits, ":", "_", "-", "."), like org:notes:write`);
  }
  return value;
}

function expressions(options: OrganizationPolicyOptions): Expressions {
  const columnName = typeof options.column === 'string' ? options.column : options.column?.name;
  if (typeof columnName !== 'string' || !NAME.test(columnName)) throw new TypeError('The organization column must be a lowercase column name');
  const prefix = options.name ?? 'clerk_org';
  if (!NAME.test(prefix) || prefix.length > 50) throw new TypeError('The policy name prefix must be a lowercase identifier of at most 50 characters');
  const s = quoteIdentifier(options.schema ?? DEFAULT_SCHEMA);
  const col = `"${columnName}"`;
  const write = checkPermission(options.write, 'write');
  const read = options.read === undefined ? undefined : checkPermission(options.read, 'read');
  // `(select …)` makes the function an init plan: evaluated once per statement, not once per row.
  const permitted = (p: string) => `${col} = any((select ${s}.permitted_organizations('${p}'))::text[])`;
  return {
    names: { select: `${prefix}_select`, insert: `${prefix}_insert`, update: `${prefix}_update`, delete: `${prefix}_delete` },
    read: read === undefined ? `${col} = any((select ${s}.member_organizations())::text[])` : permitted(read),
    write: permitted(write),
  };
}

/**
 * The policies of a table keyed by an organization column, for your Drizzle schema: rows are read
 * by the organization's active members (or only those holding `read`), and written by those holding
 * `write`; a row cannot be written into an organization where the user lacks `write`. drizzle-kit
 * enables RLS on a table with policies; force it too if your app connects as the table's owner.
 * @example
 * export const notes = pgTable('notes', { id: text().primaryKey(), organizationId: text('organization_id').notNull(), body: text() },
 *   (t) => organizationPolicies({ column: t.organizationId, write: 'org:notes:write' }));
 */
export function organizationPolicies(options: OrganizationPolicyOptions): PgPolicy[] {
  const e = expressions(options);
  const to = options.to ?? 'public';
  return [
    pgPolicy(e.names.select, { for: 'select', to, using: sql.raw(e.read) }),
    pgPolicy(e.names.insert, { for: 'insert', to, withCheck: sql.raw(e.write) }),
    pgPolicy(e.names.update, { for: 'update', to, using: sql.raw(e.write), withCheck: sql.raw(e.write) }),
    pgPolicy(e.names.delete, { for: 'delete', to, using: sql.raw(e.write) }),
  ];
}

function qualified(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => !NAME.test(p))) throw new TypeError(`Invalid table name "${table}": use lowercase letters, digits and underscores, optionally schema-qualified`);
  return parts.map((p) => `"${p}"`).join('.');
}

function roleList(to: PgPolicyToOption | undefined): string {
  const list = Array.isArray(to) ? to : [to ?? 'public'];
  return list
    .map((r) => {
      const name = typeof r === 'string' ? r : (r as { name?: unknown }).name;
      if (typeof name !== 'string' || !NAME.test(name)) throw new TypeError(`Invalid role name "${String(name)}"`);
      return ['public', 'current_role', 'current_user', 'session_user'].includes(name) ? name : `"${name}"`;
    })
    .join(', ');
}

/**
 * The same policies as plain SQL statements (for apps without Drizzle), RLS enabled and forced.
 * @example
 * for (const statement of organizationPolicySql({ table: 'notes', column: 'organization_id', write: 'org:notes:write' })) await client.query(statement);
 */
export function organizationPolicySql(options: OrganizationPolicyOptions & { table: string }): string[] {
  const e = expressions(options);
  const t = qualified(options.table);
  const to = roleList(options.to);
  return [
    `alter table ${t} enable row level security`,
    `alter table ${t} force row level security`,
    `create policy "${e.names.select}" on ${t} for select to ${to} using (${e.read})`,
    `create policy "${e.names.insert}" on ${t} for insert to ${to} with check (${e.write})`,
    `create policy "${e.names.update}" on ${t} for update to ${to} using (${e.write}) with check (${e.write})`,
    `create policy "${e.names.delete}" on ${t} for delete to ${to} using (${e.write})`,
  ];
}
