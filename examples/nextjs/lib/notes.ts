/**
 * The app's own organization-scoped table, `notes`, kept apart by Postgres itself: row-level
 * security policies from clerk-sync's synced memberships (clerk-sync/rls). Pages read it through
 * a second pool, as a role that owns nothing (APP_DATABASE_URL), inside withClerkUser(): a query
 * that forgets `where organization_id = …` still sees only the signed-in user's organizations.
 */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { assertRowLevelSecurity, organizationPolicies, organizationPolicySql } from 'clerk-sync/rls';
import { clerkSync } from './clerk-sync';

/** Writing a note needs this permission in the note's organization; reading needs a live membership. */
export const NOTES_WRITE = 'org:notes:write';

// The Drizzle declaration, policies included (what drizzle-kit would generate from); this example
// runs no migrations of its own, so setUp() below creates the same thing from the SQL recipe.
export const notes = pgTable(
  'notes',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => organizationPolicies({ column: t.organizationId, write: NOTES_WRITE }),
);

const shared = globalThis as typeof globalThis & { __notesDb?: Promise<NodePgDatabase | null> };

/** As the owner: clerk-sync's schema (the policies call its functions), the table, its policies, the grants. */
async function setUp(appRole: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(appRole)) throw new Error(`APP_DATABASE_URL's user "${appRole}" is not a plain lowercase role name`);
  const owner = await clerkSync().db(); // applies clerk-sync's migrations
  await owner.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('example:notes'))`);
    const exists = await tx.query<{ ok: boolean }>(`select to_regclass('public.notes') is not null as ok`);
    if (!exists.rows[0]?.ok) {
      await tx.query(`create table public.notes (
        id text primary key default 'note_' || md5(random()::text || clock_timestamp()::text),
        organization_id text not null,
        body text not null,
        created_at timestamptz not null default now())`);
      await tx.query('create index notes_organization_id_idx on public.notes (organization_id)');
      for (const statement of organizationPolicySql({ table: 'public.notes', column: 'organization_id', write: NOTES_WRITE })) await tx.query(statement);
    }
    await tx.query(`grant usage on schema clerk to "${appRole}"`);
    await tx.query(`grant select, insert, update, delete on public.notes to "${appRole}"`);
  });
}

/** The app role's Drizzle database, or null without APP_DATABASE_URL (the notes page then says so). */
export function notesDb(): Promise<NodePgDatabase | null> {
  shared.__notesDb ??= (async () => {
    const url = process.env.APP_DATABASE_URL;
    if (!url) return null;
    await setUp(decodeURIComponent(new URL(url).username));
    const pool = new pg.Pool({ connectionString: url, max: 5 });
    // Refuse to serve if the policies would not apply to this connection (superuser, owner, BYPASSRLS).
    await assertRowLevelSecurity(pool, ['public.notes']);
    return drizzle({ client: pool });
  })().catch((error: unknown) => {
    shared.__notesDb = undefined;
    throw error;
  });
  return shared.__notesDb;
}
