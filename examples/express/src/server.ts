/**
 * Entry point: `npm run build && npm start`.
 *
 * Environment: DATABASE_URL (Postgres), CLERK_WEBHOOK_SIGNING_SECRET (the endpoint's `whsec_`
 * secret from the Clerk Dashboard), PORT (default 3000), HOST (default: every interface), and
 * any other CLERK_SYNC_* variable clerk-sync understands.
 */
import { createClerkSync, optionsFromEnv } from 'clerk-sync';
import { createApp } from './app.js';

// Inline mode applies each event to clerk.users, clerk.organizations, … in the webhook request,
// right after the inbox commit, so this single process needs no separate worker.
const sync = createClerkSync({ ...optionsFromEnv(process.env), mode: 'inline' });
const app = createApp(sync);

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
    sync.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
