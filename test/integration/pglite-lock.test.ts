/**
 * The embedded database's folder belongs to one process at a time: a second opener is refused
 * with `database_in_use` (and changes nothing), a lock left by a process that is gone is taken over.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPGliteDb } from '../../src/db/pglite.js';
import { tempDirs } from '../support/temp-dirs.js';

const dirs = tempDirs('clerk-sync-lock-');
const freshDir = dirs.make;
afterEach(dirs.removeAll);

describe('embedded database folder lock', () => {
  it('refuses a second opener in the same process, and the first goes on working', async () => {
    const dir = freshDir();
    const db = await createPGliteDb(dir);
    await db.query('create table t (x int)');
    await expect(createPGliteDb(dir)).rejects.toMatchObject({ code: 'database_in_use' });
    await db.query('insert into t values (1)');
    expect((await db.query<{ n: number }>('select count(*)::int as n from t')).rows[0]!.n).toBe(1);
    await db.close();
    expect(existsSync(join(dir, 'clerk-sync.pid'))).toBe(false);
    // Closed: the folder can be opened again, with its data.
    const again = await createPGliteDb(dir);
    expect((await again.query<{ n: number }>('select count(*)::int as n from t')).rows[0]!.n).toBe(1);
    await again.close();
  });

  it('refuses a folder held by another live process, naming it; takes over once that process is gone', async () => {
    const dir = freshDir();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'clerk-sync.pid'), String(other.pid));
      const refusal = await createPGliteDb(dir).then(
        () => null,
        (error: unknown) => error as { code: string; message: string },
      );
      expect(refusal?.code).toBe('database_in_use');
      expect(refusal?.message).toContain(`process ${other.pid}`);
      expect(readFileSync(join(dir, 'clerk-sync.pid'), 'utf8')).toBe(String(other.pid));
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    const db = await createPGliteDb(dir);
    expect(readFileSync(join(dir, 'clerk-sync.pid'), 'utf8')).toBe(String(process.pid));
    await db.close();
  });

  it('takes over a lock holding its own pid from an earlier run (a container restarted as the same pid)', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'clerk-sync.pid'), String(process.pid));
    const db = await createPGliteDb(dir);
    await db.close();
    expect(existsSync(join(dir, 'clerk-sync.pid'))).toBe(false);
  });

  it('many processes starting at once on a folder with a stale lock: exactly one opens it', async () => {
    const module = new URL('../../src/db/pglite.ts', import.meta.url).pathname;
    const opener = `
      const { createPGliteDb } = await import(${JSON.stringify(module)});
      // Start together: wait for the same wall-clock instant.
      await new Promise((r) => setTimeout(r, Number(process.env.START_AT) - Date.now()));
      try {
        const db = await createPGliteDb(process.env.DIR);
        console.log('opened');
        await new Promise((r) => setTimeout(r, 2000));
        await db.close();
      } catch (error) {
        console.log(error.code ?? error.message);
      }`;
    for (let round = 0; round < 2; round++) {
      const dir = freshDir();
      writeFileSync(join(dir, 'clerk-sync.pid'), '2147483646'); // no such process
      const startAt = String(Date.now() + 4000);
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          new Promise<string>((resolve) => {
            const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', opener], { env: { ...process.env, DIR: dir, START_AT: startAt } });
            let out = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (out += d.toString()));
            child.on('exit', () => resolve(out.trim()));
          }),
        ),
      );
      expect(results.filter((r) => r === 'opened'), results.join(' | ')).toHaveLength(1);
      expect(results.filter((r) => r === 'database_in_use')).toHaveLength(5);
    }
  }, 60_000);
});
