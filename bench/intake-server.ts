/**
 * One receiver for the intake benchmark, run as a child process so that its CPU is its own:
 * `clerk-sync` (as `clerk-sync serve` runs: the worker in the same process, applying at intake),
 * `clerk-sync-worker` (the same with `intake.apply: false`: the worker applies everything),
 * `clerk-sync-pglite` (as `clerk-sync`, on embedded PGlite in a temporary folder: `databaseUrl`
 * is that folder), `baseline` (the seeds' hand-written route: Express + express.raw + svix's
 * Webhook.verify per request + one upsert per event on a pg pool of 10, no inbox), or `ceiling`
 * (answers 200 without any work: the most this machine and the load generator allow).
 * An optional fourth argument, JSON, is merged into clerk-sync's `intake` options (to compare
 * settings in one run). Prints `PORT <n>` when listening. Over IPC, runs the benchmark's queries `{ sql, params }` on clerk-sync's database
 * (PGlite is reachable only from this process).
 */
import express from 'express';
import pg from 'pg';
import { Webhook } from 'svix';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClerkSync, type ClerkSync } from '../src/service/clerk-sync.js';
import { createStandaloneServer } from '../src/server/standalone.js';

const [kind, databaseUrl, secret, intakeOptions] = process.argv.slice(2) as [string, string, string, string | undefined];

async function baseline(): Promise<import('node:http').Server> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query(`create table if not exists baseline_users (id text primary key, data jsonb not null, updated_at timestamptz not null default now())`);
  const wh = new Webhook(secret);
  const app = express();
  app.post('/api/webhooks/clerk', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    let evt: { type: string; data: { id: string } };
    try {
      evt = wh.verify(req.body as Buffer, {
        'svix-id': req.header('svix-id')!,
        'svix-timestamp': req.header('svix-timestamp')!,
        'svix-signature': req.header('svix-signature')!,
      }) as typeof evt;
    } catch {
      res.status(400).json({ error: 'invalid signature' });
      return;
    }
    try {
      await pool.query(
        `insert into baseline_users (id, data) values ($1, $2) on conflict (id) do update set data = excluded.data, updated_at = now()`,
        [req.header('svix-id'), JSON.stringify(evt.data)],
      );
      res.status(200).json({ received: true });
    } catch {
      res.status(500).json({ error: 'database error' });
    }
  });
  return app.listen(0, '127.0.0.1');
}

let sync: ClerkSync | undefined;

async function clerkSync(applyAtIntake: boolean, pglite: boolean): Promise<import('node:http').Server> {
  // Retention off: bench/prune.ts prunes itself, and a second pruner in this worker would compete with it.
  sync = createClerkSync({ ...(pglite ? { dataDir: databaseUrl } : { databaseUrl }), secret, logLevel: 'silent', poolSize: 10, retentionDays: 0, intake: { ...(intakeOptions ? (JSON.parse(intakeOptions) as object) : {}), apply: applyAtIntake } });
  await sync.migrate();
  await sync.startWorker({ dispatch: false });
  const server = createStandaloneServer(sync);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Answers 200 at once, reading the body and doing nothing with it: what the machine and the load generator allow at most. */
const CEILING_BODY = '{"received":true}';

function ceiling(): import('node:http').Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': CEILING_BODY.length });
      res.end(CEILING_BODY);
    });
  });
}

const server =
  kind === 'baseline' ? await baseline() : kind === 'ceiling' ? ceiling().listen(0, '127.0.0.1') : await clerkSync(kind !== 'clerk-sync-worker', kind === 'clerk-sync-pglite');
if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
console.log(`PORT ${(server.address() as AddressInfo).port}`);
process.on('message', (message: { sql: string; params?: unknown[] }) => {
  void (async () => {
    try {
      if (!sync) throw new Error(`${kind} has no clerk-sync database`);
      const result = await (await sync.db()).query(message.sql, message.params);
      process.send!({ rows: result.rows });
    } catch (error) {
      process.send!({ error: (error as Error).message });
    }
  })();
});
// An orderly exit, so that a --cpu-prof profile gets written.
process.once('SIGTERM', () => process.exit(0));
