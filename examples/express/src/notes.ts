/**
 * The app's own organization-scoped table, `notes`, kept apart by Postgres itself: row-level
 * security policies built from clerk-sync's synced memberships (clerk-sync/rls). The app reads and
 * writes it through a second connection, as a role that owns nothing (APP_DATABASE_URL), so a
 * query that forgets `where organization_id = …` still sees only the caller's organizations.
 */
import { migrate, type Db } from 'clerk-sync';
import { organizationPolicySql } from 'clerk-sync/rls';

/** Writing a note needs this permission in the note's organization; reading needs a live membership. */
export const NOTES_WRITE = 'org:notes:write';

/**
 * Once at start-up, as the owner (DATABASE_URL): clerk-sync's schema (the policies call its
 * functions), the table with its policies, and the app role's grants. Idempotent; concurrent
 * starts serialise on an advisory lock.
 */
export async function setUpNotes(owner: Db, appRole: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(appRole)) throw new Error(`APP_DATABASE_URL's user "${appRole}" is not a plain lowercase role name`);
  await migrate(owner);
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
