/** `clerk-sync reproject` as a user runs it after an upgrade: fills the new columns, reports, refuses bad flags. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPGliteDb } from '../../src/db/pglite.js';
import { migrate } from '../../src/db/migrate.js';
import { runCli } from '../support/cli.js';
import { deliver, envelope, fixture, stored } from '../projections/support.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('clerk-sync reproject', () => {
  it('fills typed columns of rows written before them, prints a summary, and refuses a bad batch size', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'clerk-sync-reproject-'));
    dirs.push(dataDir);
    const db = await createPGliteDb(dataDir);
    try {
      await migrate(db);
      for (let i = 0; i < 30; i += 1) {
        await deliver(db, stored(envelope('user.created', { ...fixture('user.created').data, id: `user_${i}`, locale: 'en-GB', updated_at: 1_750_000_000_000 }, 1_750_000_000_000)));
      }
      await db.query(`update clerk.users set locale = null, full_name = null, password_enabled = null`);
    } finally {
      await db.close();
    }

    const bad = await runCli(['reproject', '--batch-size', '0'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--batch-size must be a whole number from 1 to 5000, got "0"');

    const done = await runCli(['reproject', '--batch-size', '7'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(done.stderr).toMatch(/users: 30/);
    expect(done.stdout).toMatch(/^Reprojected 30 rows in \d+ tables \(30 updated by this run\)\.$/m);
    expect(done.status).toBe(0);

    const json = await runCli(['reproject', '--json'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ resumed: false, tables: expect.arrayContaining([{ table: 'users', rows: 30, updated: 30 }]) });

    const check = await createPGliteDb(dataDir);
    try {
      const filled = await check.query<{ n: number }>(`select count(*)::int as n from clerk.users where locale = 'en-GB' and full_name = 'John Doe' and password_enabled`);
      expect(filled.rows[0]!.n).toBe(30);
    } finally {
      await check.close();
    }
  }, 120_000);
});
