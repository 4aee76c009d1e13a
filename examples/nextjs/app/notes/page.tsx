/**
 * The signed-in user's notes, across their organizations. The query has no where clause on
 * purpose: row-level security (lib/notes.ts) returns only the rows of organizations the user is a
 * live member of, as clerk-sync has synced them.
 */
import { connection } from 'next/server';
import { asc } from 'drizzle-orm';
import { withClerkUser } from 'clerk-sync/rls';
import { currentUserId } from '@/lib/auth';
import { notes, notesDb } from '@/lib/notes';

export default async function NotesPage() {
  await connection();
  const database = await notesDb();
  if (!database) {
    return <p className="muted">Set APP_DATABASE_URL (a role that owns nothing) to enable the notes table.</p>;
  }
  const me = await currentUserId();
  const rows = me
    ? await withClerkUser(database, me, (tx) => tx.select().from(notes).orderBy(asc(notes.organizationId), asc(notes.createdAt), asc(notes.id)))
    : [];
  return (
    <>
      <h1>My notes</h1>
      <p className="muted" id="notes-user">{me ? `Signed in as ${me}.` : 'Not signed in: nothing is visible.'}</p>
      <table id="notes">
        <thead>
          <tr>
            <th>Organization</th>
            <th>Note</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((n) => (
            <tr key={n.id} data-note-id={n.id} data-org-id={n.organizationId}>
              <td>
                <code>{n.organizationId}</code>
              </td>
              <td>{n.body}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
