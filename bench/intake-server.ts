/**
 * One receiver for the intake benchmark, run as a child process so the load generator does not
 * share its event loop: `clerk-sync` (this project; `clerk-sync+worker` also runs the apply
 * worker in the same process, as `clerk-sync serve` does, and so applies at intake;
 * `clerk-sync+worker-only` is the same with `intake.apply: false`), or `baseline` (the seeds' hand-written
 * route: Express + express.raw + svix's Webhook.verify per request + one upsert per event on a
 * pg pool of 10, no inbox), or `ceiling` (answers 200 without any work: the most this machine
 * and the load generator allow). Prints `PORT <n>` when listening.
 */
import express from 'express';
import pg from 'pg';
import { Webhook } from 'svix';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClerkSync } from '../src/service/clerk-sync.js';
import { createStandaloneServer } from '../src/server/standalone.js';

const [kind, databaseUrl, secret] = process.argv.slice(2) as [string, string, string];

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

async function clerkSync(withWorker: boolean, applyAtIntake: boolean): Promise<import('node:http').Server> {
  const sync = createClerkSync({ databaseUrl, secret, logLevel: 'silent', poolSize: 10, intake: { apply: applyAtIntake } });
  await sync.migrate();
  if (withWorker) await sync.startWorker({ dispatch: false });
  const server = createStandaloneServer(sync);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Answers 200 at once, reading the body and doing nothing with it: what the machine and the load generator allow at most. */
function ceiling(): import('node:http').Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"received":true}');
    });
  });
}

const server = kind === 'baseline' ? await baseline() : kind === 'ceiling' ? ceiling().listen(0, '127.0.0.1') : await clerkSync(kind.startsWith('clerk-sync+worker'), kind !== 'clerk-sync+worker-only');
if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
console.log(`PORT ${(server.address() as AddressInfo).port}`);
// An orderly exit, so that a --cpu-prof profile gets written.
process.once('SIGTERM', () => process.exit(0));
