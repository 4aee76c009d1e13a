/** `clerk-sync prune` as an operator runs it: refuses bad days, dry-runs, prunes with a progress line, reports JSON. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPGliteDb } from '../../src/db/pglite.js';
import { migrate } from '../../src/db/migrate.js';
import { runCli } from '../support/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const count = async (dataDir: string, sql: string) => {
  const db = await createPGliteDb(dataDir);
  try {
    return (await db.query<{ n: number }>(sql)).rows[0]!.n;
  } finally {
    await db.close();
  }
};

describe('clerk-sync prune', () => {
  it('refuses bad days with exit 2, counts with --dry-run, then prunes old done events and sent payloads only', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'clerk-sync-prune-'));
    dirs.push(dataDir);
    const db = await createPGliteDb(dataDir);
    try {
      await migrate(db);
      await db.query(
        `insert into clerk.webhook_events (id, type, payload, status, received_at, applied_at)
         select 'msg_' || i, 'session.created', '{"data":{}}'::jsonb, case when i % 10 = 0 then 'dead' else 'applied' end,
                now() - make_interval(days => case when i <= 40 then 45 else 1 end), now() - make_interval(days => case when i <= 40 then 45 else 1 end)
         from generate_series(1, 50) as i`,
      );
      await db.query(
        `insert into clerk.outbox (kind, key, payload, status, sent_at) values
           ('email.welcome', 'user_old', '{"to":"old@example.com"}', 'sent', now() - interval '45 days'),
           ('email.welcome', 'user_dead', '{"to":"dead@example.com"}', 'dead', null)`,
      );
    } finally {
      await db.close();
    }
    const events = `select count(*)::int as n from clerk.webhook_events`;

    for (const [args, message] of [
      [['--days', '0'], '--days must be a whole number from 1 to 36500, got "0"'],
      [['--days', 'ten'], '--days must be a whole number from 1 to 36500, got "ten"'],
      [['--days=-5'], '--days must be a whole number from 1 to 36500, got "-5"'],
    ] as const) {
      const bad = await runCli(['prune', ...args], { CLERK_SYNC_DATA_DIR: dataDir });
      expect(bad.status).toBe(2);
      expect(bad.stderr.trim()).toBe(`clerk-sync prune: ${message}`);
    }
    const off = await runCli(['prune'], { CLERK_SYNC_DATA_DIR: dataDir, CLERK_SYNC_RETENTION_DAYS: '0' });
    expect(off.status).toBe(2);
    expect(off.stderr).toContain('retention is off (CLERK_SYNC_RETENTION_DAYS=0): give --days N to prune anyway');
    expect(await count(dataDir, events)).toBe(50);

    const dry = await runCli(['prune', '--dry-run'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/^Would delete 36 events and reduce 1 sent side effects older than 30 days \(before .+\)\.$/m);
    expect(await count(dataDir, events)).toBe(50);

    const done = await runCli(['prune', '--days', '30', '--paced'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(done.status).toBe(0);
    expect(done.stderr).toMatch(/prune: 37/);
    expect(done.stdout).toMatch(/^Deleted 36 events and reduced 1 sent side effects older than 30 days/m);
    expect(await count(dataDir, events)).toBe(14);
    expect(await count(dataDir, `select count(*)::int as n from clerk.webhook_events where status = 'dead'`)).toBe(5);
    expect(await count(dataDir, `select count(*)::int as n from clerk.outbox where payload = '{}'::jsonb and pruned_at is not null and key = 'user_old'`)).toBe(1);
    expect(await count(dataDir, `select count(*)::int as n from clerk.outbox where payload ? 'to' and key = 'user_dead'`)).toBe(1);

    const json = await runCli(['prune', '--json'], { CLERK_SYNC_DATA_DIR: dataDir, CLERK_SYNC_RETENTION_DAYS: '7' });
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ days: 7, events: 0, outbox: 0, dryRun: false, busy: false });
  }, 120_000);
});
