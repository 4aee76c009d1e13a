/**
 * `clerk-sync reconcile`, `status` and `doctor` as processes against the fake Backend API:
 * output and exit codes, on the embedded database (a data folder) and, when TEST_DATABASE_URL is
 * set, on Postgres. The database is filled through the library first (cli.test.ts covers the
 * backfill command itself).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkSync } from '../../src/service/clerk-sync.js';
import { createPGliteDb } from '../../src/db/pglite.js';
import { createPgDb } from '../../src/db/pg.js';
import type { Db } from '../../src/core/db.js';
import { migrate } from '../../src/db/migrate.js';
import { runBackfill } from '../../src/backfill/run.js';
import { drain, fakeApi } from './support.js';
import { backends } from '../support/databases.js';
import { CLI, cliEnv as cleanEnv, cwd, runCli } from '../support/cli.js';
import { startFakeClerkApi, type FakeClerkApi } from '../support/fake-clerk-api.js';
import { startServer } from '../support/http.js';
import { startControlServer } from '../../src/server/control.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

for (const backend of backends) {
  describe(`operator commands (${backend.name})`, () => {
    let fake: FakeClerkApi;
    let dbEnv: Record<string, string>;
    let dataDir: string;
    let drop = async () => {};
    const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...dbEnv, ...extra });
    const api = () => ({ CLERK_SECRET_KEY: fake.secretKey, CLERK_API_URL: fake.url });
    const withDb = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
      const db = backend.name === 'postgres' ? createPgDb({ connectionString: dbEnv.DATABASE_URL!, max: 2 }) : await createPGliteDb(dataDir);
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    };

    beforeAll(async () => {
      fake = await startFakeClerkApi();
      fake.seed({ users: 1200, organizations: 4, membershipsPerOrganization: 3 });
      dataDir = mkdtempSync(join(tmpdir(), 'clerk-sync-backfill-cli-'));
      if (backend.name === 'postgres') {
        const database = await backend.create();
        dbEnv = { DATABASE_URL: database.url!, CLERK_SYNC_DATA_DIR: dataDir };
        drop = () => database.drop();
      } else {
        dbEnv = { CLERK_SYNC_DATA_DIR: dataDir };
      }
      await withDb(async (db) => {
        await migrate(db);
        await runBackfill({ db, schema: 'clerk', api: fakeApi(fake) });
        await drain(db);
      });
    });
    afterAll(async () => {
      await fake.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('reconcile reports what it would tombstone, then tombstones it', async () => {
      const gone = fake.users[3]!.id;
      fake.deleteUser(gone);
      await withDb((db) => db.query(`update clerk.users set synced_at = now() - interval '1 minute'`));
      const dry = await cli(['reconcile', '--dry-run', '--only', 'users', '--rate', '1000'], api());
      expect(dry.status).toBe(0);
      expect(dry.stdout).toContain(`Would tombstone 1 users: ${gone}`);
      const real = await cli(['reconcile', '--only', 'users', '--rate', '1000'], api());
      expect(real.status).toBe(0);
      expect(real.stdout).toContain(`Tombstoned 1 users: ${gone}`);
      expect(real.stdout).toMatch(/user\.deleted\s+applied\s+1/);
      const deleted = await withDb((db) => db.query<{ deleted_at: Date | null }>('select deleted_at from clerk.users where id = $1', [gone]));
      expect(deleted.rows[0]!.deleted_at).not.toBeNull();
    });

    it('status reports the queues as text and JSON (exit 0), and exits 3 when dead letters wait', async () => {
      const json = await cli(['status', '--json']);
      expect(json.status).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ inbox: { byStatus: { applied: 1217 }, dead: 0 }, backfill: null, problems: [] });
      await withDb((db) => db.query(`update clerk.webhook_events set status = 'dead', last_error = 'boom' where id = (select id from clerk.webhook_events limit 1)`));
      const status = await cli(['status']);
      expect(status.status).toBe(3);
      expect(status.stdout).toContain('1 dead letter(s)');
      await withDb((db) => db.query(`update clerk.webhook_events set status = 'applied' where status = 'dead'`));
    });

    it('doctor passes on a good set-up, including a live endpoint, and says what to fix otherwise', async () => {
      // The endpoint stores into the database doctor checks; the embedded one is held by this
      // process, so doctor reads it over the control socket, as from a second terminal.
      const endpoint = createClerkSync({ ...(backend.name === 'postgres' ? { databaseUrl: dbEnv.DATABASE_URL } : { dataDir }), secret: SECRET, logger: false });
      await endpoint.db();
      const control = backend.name === 'pglite' ? await startControlServer(endpoint, dataDir) : undefined;
      const server = await startServer(endpoint);
      try {
        const good = await cli(['doctor', '--url', `${server.url}/api/webhooks/clerk`], { ...api(), CLERK_WEBHOOK_SIGNING_SECRET: SECRET });
        expect(good.stdout).toMatch(/✓ webhook secret\s+1 secret/);
        expect(good.stdout).toMatch(/✓ database/);
        expect(good.stdout).toMatch(/✓ migrations/);
        if (backend.name === 'postgres') expect(good.stdout).toMatch(/✓ clock/);
        expect(good.stdout).toMatch(/✓ Clerk API key\s+development instance, \d+ users/);
        expect(good.stdout).toMatch(/✓ endpoint .* answered 200/);
        expect(good.stdout).toMatch(/✓ signature .* refused \(400 invalid_signature\)/);
        expect(good.stdout).toMatch(/✓ inbox\s+msg_doctor_\w+ is in clerk\.webhook_events/);
        expect(good.status, good.stdout).toBe(0);
        const stored = await (await endpoint.db()).query<{ type: string }>(`select type from clerk.webhook_events where id like 'msg_doctor_%'`);
        expect(stored.rows.map((r) => r.type)).toEqual(['clerk_sync.doctor']);

        const other = 'whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXk=';
        const wrongSecret = await cli(['doctor', '--url', `${server.url}/api/webhooks/clerk`], { CLERK_WEBHOOK_SIGNING_SECRET: other });
        expect(wrongSecret.status).toBe(1);
        expect(wrongSecret.stdout).toContain('✗ signature');
        expect(wrongSecret.stdout).toContain('invalid_signature');
        expect(wrongSecret.stdout).toContain('use the same CLERK_WEBHOOK_SIGNING_SECRET on both');
      } finally {
        await server.close();
        if (control) await new Promise<void>((resolve) => control.close(() => resolve()));
        await endpoint.close();
      }
    });

    it('doctor fails the inbox check when the endpoint stores into another database', async () => {
      const elsewhere = await createPGliteDb();
      const endpoint = createClerkSync({ db: elsewhere, secret: SECRET, logger: false });
      const server = await startServer(endpoint);
      try {
        const r = await cli(['doctor', '--url', `${server.url}/api/webhooks/clerk`], { CLERK_WEBHOOK_SIGNING_SECRET: SECRET });
        expect(r.stdout).toMatch(/✓ signature/);
        expect(r.stdout).toMatch(/✗ inbox\s+the endpoint answered 2xx, but msg_doctor_\w+ is not in clerk\.webhook_events of the database configured here/);
        expect(r.stdout).toContain('the endpoint stores into another database');
        expect(r.status).toBe(1);
      } finally {
        await server.close();
        await endpoint.close();
        await elsewhere.close();
      }
    });
  });
}

describe('doctor on a broken set-up', () => {
  it('fails each broken check with what to fix (no database needed)', async () => {
    const broken = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const env = cleanEnv({ CLERK_WEBHOOK_SIGNING_SECRET: 'sk_test_oops', CLERK_SECRET_KEY: 'whsec_abc', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'doctor', '--timeout', '3000'], { cwd, env });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (status) => resolve({ status, stdout }));
    });
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain('looks like a Clerk API secret key, not a webhook signing secret');
    expect(broken.stdout).toMatch(/✗ database/);
    expect(broken.stdout).toContain('it belongs in CLERK_WEBHOOK_SIGNING_SECRET');
  });
});
