/**
 * `clerk-sync backfill` as a process against the fake Backend API: output, exit codes, ^C and
 * --max-requests with a resume, on the embedded database (a data folder) and, when
 * TEST_DATABASE_URL is set, on Postgres; and the progress display. reconcile, status and doctor
 * are in operator-cli.test.ts (each file stays within its time budget).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';
import { backends } from '../support/databases.js';
import { CLI, cliEnv as cleanEnv, cwd, runCli } from '../support/cli.js';
import { startFakeClerkApi, type FakeClerkApi } from '../support/fake-clerk-api.js';


for (const backend of backends) {
  describe(`operator commands (${backend.name})`, () => {
    let fake: FakeClerkApi;
    let dbEnv: Record<string, string>;
    let dataDir: string;
    let drop = async () => {};
    const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...dbEnv, ...extra });
    const api = () => ({ CLERK_SECRET_KEY: fake.secretKey, CLERK_API_URL: fake.url });

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
    });
    afterAll(async () => {
      await fake.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('backfill refuses to run without CLERK_SECRET_KEY, with a key Clerk refuses, or with a bad flag (exit 2)', async () => {
      const missing = await cli(['backfill']);
      expect(missing.status).toBe(2);
      expect(missing.stderr).toContain('CLERK_SECRET_KEY');
      const bad = await cli(['backfill', '--only', 'users,bogus'], api());
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('bogus');
      // A key Clerk refuses: exit 2, naming the variable and where the right one is.
      const refused = await cli(['backfill'], { ...api(), CLERK_SECRET_KEY: 'sk_test_not_this_instance' });
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('Clerk refused CLERK_SECRET_KEY (401 authentication_invalid)');
      expect(refused.stderr).toContain('Clerk Dashboard → Configure → API keys');
      expect(refused.stderr).not.toContain('sk_test_not_this_instance');
    });

    it('stops at --max-requests (exit 3), shows in status, and the next run finishes (exit 0)', async () => {
      const first = await cli(['backfill', '--max-requests', '4', '--rate', '1000'], api());
      expect(first.status).toBe(3);
      expect(first.stdout).toContain('Backfill stopped (4 Backend API requests)');
      expect(first.stdout).toMatch(/users\s+500 listed\s+500 new or changed/);
      expect(first.stdout).toContain('run the same command again to continue');

      const status = await cli(['status']);
      expect(status.status).toBe(0);
      expect(status.stdout).toMatch(/applied\s+500/);
      expect(status.stdout).toMatch(/Backfill bf_\S+ \(started [^)]+, 4 requests\): stopped: `clerk-sync backfill` continues it/);
      expect(status.stdout).toMatch(/users\s+500 listed\s+500 new\s+500 of 1200/);
      expect(status.stdout).toMatch(/roles\s+0 listed\s+0 new\s+done/);

      const second = await cli(['backfill', '--rate', '1000'], api());
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(/Resumed backfill bf_/);
      expect(second.stdout).toContain('Backfill complete');
      expect(second.stdout).toMatch(/users\s+1200 listed\s+1200 new or changed/);
      expect(second.stdout).toMatch(/memberships\s+12 listed/);
      const after = await cli(['status']);
      expect(after.stdout).toMatch(/Backfill bf_\S+ .*: complete/);
    });

    it('stops between requests on ^C (exit 130), keeping its position', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'backfill', '--restart', '--only', 'users', '--rate', '4', '--page-size', '100', '--no-apply'], { cwd, env: cleanEnv({ ...dbEnv, ...api() }) });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const before = fake.requests.length;
      // The count and two pages (at 4 requests per second) are in: interrupt.
      while (fake.requests.length - before < 3) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, err).toBe(130);
      expect(err).toContain('Stopping after the request in flight');
      expect(out).toContain('Interrupted: run the same command again to continue.');
      const status = JSON.parse((await cli(['status', '--json'])).stdout);
      expect(status.backfill).toMatchObject({ resources: ['users'], status: 'open', holder: null });
      // Every page answered before ^C is stored and counted; the next run starts after them.
      const users = status.backfill.listings.find((l: { listing: string }) => l.listing === 'users');
      expect(users.position).toBeGreaterThanOrEqual(200);
      expect(users.listed).toBe(users.position);
    });

  });
}

describe('progress', () => {
  const stream = (isTTY: boolean) => {
    const s = { text: '', isTTY, columns: 100, write: (t: string) => void (s.text += t) };
    return s;
  };

  it('redraws a bar with count, rate and ETA on a terminal', () => {
    let now = 0;
    const out = stream(true);
    const p = createProgress({ label: 'users', total: 1000, stream: out, now: () => now });
    now = 1000;
    p.tick(250);
    expect(out.text).toContain('\r\x1b[2Kusers [');
    expect(out.text).toContain('250/1000  25%  250/s  ETA 3s');
    now = 2000;
    p.set(1000);
    p.done();
    expect(out.text.endsWith('users: 1000/1000  100%  500/s (2s)\n')).toBe(true);
  });

  it('writes plain lines every few seconds otherwise, measuring a resumed run from where it started', () => {
    let now = 0;
    const out = stream(false);
    const p = createProgress({ label: 'users', total: 1000, start: 500, stream: out, now: () => now, logEveryMs: 5000 });
    now = 1000;
    p.set(600);
    expect(out.text).toBe('');
    now = 6000;
    p.set(800);
    expect(out.text).toBe('users: 800/1000  80%  50.0/s  ETA 4s\n');
    p.done('done');
    expect(out.text).not.toContain('\r');
    expect(out.text.endsWith('users: done (6s)\n')).toBe(true);
  });
});
