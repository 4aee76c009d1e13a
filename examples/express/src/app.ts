/**
 * The app, separate from the listening server so it can be mounted or tested on its own.
 *
 * - `express.json()` is mounted globally, as in most Express apps. Its `verify` callback keeps
 *   the exact bytes of every JSON body on `req.rawBody`; clerk-sync's handler checks the Svix
 *   signature against those bytes, never against a re-serialisation of the parsed object.
 * - `GET /orgs/:orgId/reports` is guarded by an ABAC check on the synced tables: the caller must
 *   hold `org:reports:read` in that organization through a live membership (its own permissions
 *   or its role's).
 * - `/notes` and `/orgs/:orgId/notes` read and write the app's own table through row-level
 *   security (see notes.ts): the queries run in withClerkUser() on the app role's connection, and
 *   Postgres shows each caller only the rows of organizations they are a live member of.
 */
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { can, forOrganization, type ClerkSync, type Db } from 'clerk-sync';
import { clerkSyncExpress } from 'clerk-sync/express';
import { NOTES_WRITE } from './notes.js';
import { withClerkUser } from 'clerk-sync/rls';

export const REPORTS_PERMISSION = 'org:reports:read';

type RawBodyRequest = IncomingMessage & { rawBody?: Buffer };
type Authed = Request & { userId?: string };

/**
 * Stand-in for Clerk's authentication: the caller's user id comes from the `x-user-id` header.
 * With `@clerk/express` this is `clerkMiddleware()` plus `getAuth(req).userId`; nothing else in
 * the app changes.
 */
function requireUser(req: Authed, res: Response, next: NextFunction): void {
  const userId = req.get('x-user-id');
  if (!userId) {
    res.status(401).json({ error: 'unauthenticated' });
    return;
  }
  req.userId = userId;
  next();
}

/** A Postgres error code: insufficient privilege, which a refused row-level security check raises. */
const RLS_REFUSED = '42501';

/** `notesDb`: the app role's connection (APP_DATABASE_URL); without it the notes routes answer 503. */
export function createApp(sync: ClerkSync, notesDb?: Db): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.use(
    express.json({
      // express.json() answers 413 above its own limit (100 kB by default) before clerk-sync
      // sees the request; Clerk's payloads may be larger, so allow what clerk-sync allows.
      limit: sync.config.maxBodyBytes,
      verify: (req: RawBodyRequest, _res, buf) => {
        req.rawBody = buf;
      },
    }),
  );

  // Svix retries non-2xx answers; clerk-sync answers 2xx only once the event is in the inbox.
  // app.all so other methods get clerk-sync's 405 rather than Express' 404.
  app.all('/api/webhooks/clerk', clerkSyncExpress(sync));

  app.get('/healthz', async (_req, res) => {
    const readiness = await sync.readiness();
    res.status(readiness.ok ? 200 : 503).json(readiness);
  });

  app.get('/orgs/:orgId/reports', requireUser, async (req: Authed, res) => {
    const orgId = String(req.params.orgId);
    const db = await sync.db();
    const options = { schema: sync.config.schema };
    if (!(await can(db, options, req.userId!, orgId, REPORTS_PERMISSION))) {
      res.status(403).json({ error: 'forbidden', permission: REPORTS_PERMISSION });
      return;
    }
    // forOrganization binds every query to this organization: no other tenant's rows can leak in.
    const org = forOrganization(db, orgId, options);
    const members = await org.users();
    const byRole: Record<string, number> = {};
    for (const member of members) byRole[member.role ?? 'none'] = (byRole[member.role ?? 'none'] ?? 0) + 1;
    res.json({
      organizationId: orgId,
      members: members.map((m) => ({ id: m.id, name: [m.firstName, m.lastName].filter(Boolean).join(' '), email: m.primaryEmail, role: m.role })),
      membersByRole: byRole,
      pendingInvitations: (await org.invitations({ status: 'pending' })).length,
    });
  });

  type NoteRow = { id: string; organization_id: string; body: string };
  const notes = (userId: string, fn: (tx: Db) => Promise<unknown>) => withClerkUser(notesDb!, userId, (tx) => fn(tx as Db));
  const needNotesDb = (_req: Request, res: Response, next: NextFunction): void => {
    if (notesDb) next();
    else res.status(503).json({ error: 'notes_disabled', message: 'set APP_DATABASE_URL to a role that owns nothing' });
  };

  // No where clause: row-level security alone limits the rows to the caller's organizations.
  app.get('/notes', requireUser, needNotesDb, async (req: Authed, res) => {
    const rows = await notes(req.userId!, async (tx) => (await tx.query<NoteRow>('select id, organization_id, body from notes order by organization_id, created_at, id')).rows);
    res.json({ notes: rows });
  });

  app.get('/orgs/:orgId/notes', requireUser, needNotesDb, async (req: Authed, res) => {
    const rows = await notes(req.userId!, async (tx) =>
      (await tx.query<NoteRow>('select id, organization_id, body from notes where organization_id = $1 order by created_at, id', [String(req.params.orgId)])).rows,
    );
    res.json({ notes: rows });
  });

  app.post('/orgs/:orgId/notes', requireUser, needNotesDb, async (req: Authed, res) => {
    const body = (req.body as { body?: unknown } | undefined)?.body;
    if (typeof body !== 'string' || body === '' || body.length > 10_000) {
      res.status(400).json({ error: 'invalid_body', message: 'send {"body": "…"} (1 to 10,000 characters)' });
      return;
    }
    try {
      const row = await notes(req.userId!, async (tx) =>
        (await tx.query<NoteRow>('insert into notes (organization_id, body) values ($1, $2) returning id, organization_id, body', [String(req.params.orgId), body])).rows[0],
      );
      res.status(201).json({ note: row });
    } catch (error) {
      if ((error as { code?: unknown }).code !== RLS_REFUSED) throw error;
      res.status(403).json({ error: 'forbidden', permission: NOTES_WRITE });
    }
  });

  // Express 5 forwards rejected promises here; answer JSON instead of the default HTML page.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sync.logger.error({ err: error }, 'request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal_error' });
  });

  return app;
}
