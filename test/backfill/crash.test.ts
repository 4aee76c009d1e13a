/**
 * A backfill killed with SIGKILL, as a user's `kill -9` or an OOM kill does, then run again: the
 * real CLI process against the fake Backend API, on PGlite (a data folder) and on Postgres. Killed
 * while a listing's request is in flight (twice, at different points) and once more after the
 * last request (during the apply), the next run finishes and every table equals the API's data
 * row by row. This is the loss a file cursor plus "apply only this run's events" caused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/core/db.js';
import { createPGliteDb } from '../../src/db/pglite.js';
import { backends } from '../support/databases.js';
import { CLI, cliEnv, cwd, runCli } from '../support/cli.js';
import { startFakeClerkApi, type FakeClerkApi } from '../support/fake-clerk-api.js';
import { expectMirrors } from './support.js';

const SEED = {
  users: 2000, organizations: 200, membershipsPerOrganization: 3, invitationsPerOrganization: 0, invitations: 34, revokedInvitations: 6, roles: 4, permissions: 10,
  domainsPerOrganization: 1, waitlistEntries: 20, subscriptionItems: 5,
};

for (const backend of backends) {
  describe(`backfill killed with SIGKILL and run again (${backend.name})`, () => {
    let fake: FakeClerkApi;
    let env: Record<string, string>;
    let dataDir: string;
    let open: () => Promise<Db>;
    let drop = async () => {};

    beforeAll(async () => {
      fake = await startFakeClerkApi();
      fake.seed(SEED);
      dataDir = mkdtempSync(join(tmpdir(), 'clerk-sync-backfill-crash-'));
      env = { CLERK_SYNC_DATA_DIR: dataDir, CLERK_SECRET_KEY: fake.secretKey, CLERK_API_URL: fake.url };
      if (backend.name === 'postgres') {
        const database = await backend.create();
        env.DATABASE_URL = database.url!;
        open = async () => ({ ...database.db, close: async () => {} });
        drop = () => database.drop();
      } else {
        open = () => createPGliteDb(dataDir);
      }
    });
    afterAll(async () => {
      await fake.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /**
     * Runs `clerk-sync backfill` and SIGKILLs it: at request `at` (before the fake answers it), or
     * `quietMs` after its last request (listing done, so in the apply).
     */
    const backfillKilled = (kill: { at: number } | { quietMs: number }, extra: string[] = []) =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'backfill', '--rate', '1000', '--page-size', '100', ...extra], { cwd, env: cliEnv(env) });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        let seen = 0;
        let quiet: NodeJS.Timeout | undefined;
        fake.onRequest = () => {
          seen++;
          if ('at' in kill && seen === kill.at) child.kill('SIGKILL');
          if ('quietMs' in kill) {
            clearTimeout(quiet);
            quiet = setTimeout(() => child.kill('SIGKILL'), kill.quietMs);
          }
        };
        child.on('exit', (code, signal) => {
          clearTimeout(quiet);
          fake.onRequest = undefined;
          resolve({ code, signal, stderr });
        });
      });

    it('resumes after kills during listings and during the apply, and every table equals the API', async () => {
      // Users are listed after 2 small listings and the users count: request 12 is inside users,
      // each page applied in the transaction that stores it.
      const first = await backfillKilled({ at: 12 });
      expect(first.signal, first.stderr).toBe('SIGKILL');
      // The second run resumes after the stored pages, storing without applying (--no-apply), and is killed further on.
      const second = await backfillKilled({ at: 16 }, ['--no-apply']);
      expect(second.signal, second.stderr).toBe('SIGKILL');
      // The third lists what is left and is killed in its apply of the second run's pending pages, 100 ms after its last request.
      const third = await backfillKilled({ quietMs: 100 });
      expect(third.signal, third.stderr).toBe('SIGKILL');

      const last = await runCli(['backfill', '--rate', '1000', '--page-size', '100'], env);
      expect(last.status, last.stderr).toBe(0);
      expect(last.stdout).toMatch(/Resumed backfill bf_/);
      expect(last.stdout).toContain('Backfill complete');

      const db = await open();
      try {
        await expectMirrors(db, fake, expect);
        const pending = await db.query<{ n: number }>(`select count(*)::int as n from clerk.webhook_events where status <> 'applied' and status <> 'stale'`);
        expect(pending.rows[0]!.n).toBe(0);
        const runs = await db.query<{ status: string }>('select status from clerk.backfill_runs');
        expect(runs.rows).toEqual([{ status: 'complete' }]);
      } finally {
        await db.close();
      }
      // Every listing was read once in all, apart from the pages in flight at each kill (the one
      // being stored, the one being stored alongside it, and the one fetched ahead: three at most).
      const users = fake.requests.filter((r) => r.path === '/v1/users').map((r) => r.query.offset);
      expect(new Set(users).size).toBe(20);
      expect(users.length).toBeLessThanOrEqual(20 + 3 * 2);
    });
  });
}
