/**
 * `clerk-sync worker`, `drain` and `replay` as processes: output, exit codes, and a worker that
 * applies what intake stored and exits 0 on SIGTERM. On the embedded database (a data folder)
 * and, when TEST_DATABASE_URL is set, on Postgres.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPGliteDb } from '../../src/db/pglite.js';
import { migrate } from '../../src/db/migrate.js';
import type { Db } from '../../src/core/db.js';
import { parseTime } from '../../src/cli/commands/replay.js';
import { backends } from '../support/databases.js';
import { waitFor } from '../outbox/support.js';
import { store, user } from './events.js';

const CLI = new URL('../../src/cli/index.ts', import.meta.url).pathname;
const cwd = new URL('../..', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, CLERK_SYNC_LOG_LEVEL: 'warn' };
  for (const k of ['DATABASE_URL', 'RESEND_API_KEY', 'SLACK_WEBHOOK_URL', 'CLERK_SYNC_DATA_DIR']) delete e[k];
  return { ...e, ...extra };
}

const cli = (args: string[], extra: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd, env: env(extra), encoding: 'utf8', timeout: 60_000 });

const events = [
  { id: 'msg_1', type: 'user.created', data: user('user_1', 0) },
  { id: 'msg_2', type: 'user.updated', data: user('user_1', 5) },
  { id: 'msg_bad', type: 'session.created', data: { id: 'sess_1' } },
];

describe('clerk-sync drain and replay on the embedded database', () => {
  it('drain applies and reports (exit 1 for the dead one), replay queues by type and --drain applies', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'clerk-sync-worker-cli-'));
    dirs.push(dataDir);
    const seed = async (fn: (db: Db) => Promise<void>) => {
      const db = await createPGliteDb(dataDir);
      try {
        await migrate(db);
        await fn(db);
      } finally {
        await db.close();
      }
    };
    await seed((db) => store(db, events));
    const drained = cli(['drain'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(drained.stdout).toContain('Events: 2 applied, 0 stale, 0 ignored, 0 failed (will retry), 1 dead; 0 still waiting.');
    expect(drained.stdout).toContain('Side effects: no sender configured here; none sent.');
    expect(drained.status).toBe(1);

    const replayed = cli(['replay', '--type', 'user.updated', '--drain'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(replayed.stdout).toContain('Queued 1 event to be applied again.');
    expect(replayed.stdout).toContain('Events: 0 applied, 1 stale');
    expect(replayed.status).toBe(0);

    const dead = cli(['replay', '--dead'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(dead.stdout).toContain('Queued 1 event to be applied again.');
    expect(dead.stdout).toContain('clerk-sync drain');
    expect(dead.status).toBe(0);
    await seed(async (db) => {
      expect((await db.query<{ status: string; attempts: number }>("select status, attempts from clerk.webhook_events where id = 'msg_bad'")).rows[0]).toEqual({ status: 'pending', attempts: 0 });
    });
  });

  it('replay refuses to guess', () => {
    const r = cli(['replay'], { CLERK_SYNC_DATA_DIR: '/nonexistent-never-opened' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('say which events');
    expect(cli(['replay', '--kind', 'email.welcome'], {}).status).toBe(2);
    expect(cli(['replay', '--since', 'yesterday'], {}).status).toBe(2);
    expect(parseTime('--since', '6h', 100_000_000)).toEqual(new Date(100_000_000 - 6 * 3_600_000));
    expect(parseTime('--since', '2025-06-01T12:00:00Z')).toEqual(new Date('2025-06-01T12:00:00Z'));
  });
});

const postgres = backends.find((b) => b.name === 'postgres');

describe.skipIf(!postgres)('clerk-sync worker on Postgres', () => {
  it('applies stored events, wakes on new ones, and exits 0 on SIGTERM', async () => {
    const database = await postgres!.create();
    try {
      await store(database.db, events.slice(0, 2));
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker', '--batch-size', '10'], { cwd, env: env({ DATABASE_URL: database.url!, CLERK_SYNC_LOG_LEVEL: 'info' }) });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const status = async (id: string) => (await database.db.query<{ status: string }>('select status from clerk.webhook_events where id = $1', [id])).rows[0]?.status;
      await waitFor('applied by the worker', async () => (await status('msg_2')) === 'applied', 45_000, 100);
      expect(out).toContain('clerk-sync worker running (database: DATABASE_URL; applying and sending)');
      expect(out).toContain('email off: set RESEND_API_KEY and CLERK_SYNC_EMAIL_FROM');
      await store(database.db, [{ id: 'msg_3', type: 'user.created', data: user('user_2', 0) }]);
      await waitFor('woken by NOTIFY', async () => (await status('msg_3')) === 'applied', 5_000, 50);
      const t = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t).toBeLessThan(10_000);
      expect(out).toContain('clerk-sync worker stopped');
    } finally {
      await database.drop();
    }
  });
});
