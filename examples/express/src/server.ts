/**
 * Entry point: `npm run build && npm start`.
 *
 * Environment: DATABASE_URL (Postgres), CLERK_WEBHOOK_SIGNING_SECRET (the endpoint's `whsec_`
 * secret from the Clerk Dashboard), PORT (default 3000), HOST (default: every interface), and
 * any other CLERK_SYNC_* variable clerk-sync understands. APP_DATABASE_URL (optional): the same
 * database as a role that owns nothing, for the notes table behind row-level security.
 */
import { createClerkSync, createPgDb, optionsFromEnv, type Db } from 'clerk-sync';
import { assertRowLevelSecurity } from 'clerk-sync/rls';
import { createApp } from './app.js';
import { setUpNotes } from './notes.js';

// Inline mode applies each event to clerk.users, clerk.organizations, … in the webhook request,
// right after the inbox commit, so this single process needs no separate worker.
const sync = createClerkSync({ ...optionsFromEnv(process.env), mode: 'inline' });

let notesDb: Db | undefined;
if (process.env.APP_DATABASE_URL) {
  await setUpNotes(await sync.db(), decodeURIComponent(new URL(process.env.APP_DATABASE_URL).username));
  notesDb = createPgDb({ connectionString: process.env.APP_DATABASE_URL, max: 5 });
  // Refuse to start if the policies would not apply to this connection (superuser, owner, BYPASSRLS).
  await assertRowLevelSecurity(notesDb, ['public.notes']);
}
const app = createApp(sync, notesDb);

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST;
const server = app.listen(port, host ?? '::', (error?: Error) => {
  if (error) throw error;
  sync.logger.info({ port, host: host ?? '::' }, 'express example listening');
});

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  sync.logger.info({ signal }, 'stopping');
  // Finish the requests in flight (their events are committed before they answer), then close the pool.
  server.close(() => {
    Promise.all([sync.close(), notesDb?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
