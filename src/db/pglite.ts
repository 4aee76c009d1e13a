/**
 * `Db` on PGlite: Postgres compiled to WASM, in-process, persisted in a data folder. The
 * default when no DATABASE_URL is given, so the first run needs nothing installed. One
 * connection: PGlite serialises queries and transactions itself.
 */
import type { PGlite } from '@electric-sql/pglite';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Db, Queryable, QueryResult } from '../core/db.js';
import { ClerkSyncError } from '../core/errors.js';

/**
 * dataDir: a folder, or undefined for an in-memory database (tests). A folder belongs to one
 * process at a time: PGlite has no shared memory or locks between processes, so a second one
 * would write the same files and corrupt them. A lock file holding the owner's pid says so; a
 * lock left by a process that is gone (kill -9) is taken over.
 */
export async function createPGliteDb(dataDir?: string): Promise<Db> {
  // Imported here: an app on Postgres never loads PGlite (its WASM build is the largest dependency).
  const { PGlite } = await import('@electric-sql/pglite');
  if (!dataDir) return wrapPGlite(await PGlite.create());
  const unlock = lockDataDir(dataDir);
  try {
    const db = wrapPGlite(await PGlite.create(dataDir));
    return {
      ...db,
      close: async () => {
        try {
          await db.close();
          // PGlite writes a few files with its own mode (relcache init files, 0644): narrowed
          // again, though the 0700 folder keeps them from other users meanwhile.
          restrictDataDir(dataDir);
        } finally {
          unlock();
        }
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

const LOCK_FILE = 'clerk-sync.pid';
/** Folders this process holds: its own pid in a lock file is otherwise a leftover of an earlier process that had the same pid (containers restart as pid 1). */
const held = new Set<string>();

/**
 * The folder holds every payload (emails, one-time codes, in the tables and the WAL): its owner
 * only, whatever the umask, so files PGlite writes later are out of other users' reach too.
 * Files already there are narrowed to 0600 (folders 0700).
 */
function restrictDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const walk = (dir: string) => {
    chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = resolve(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) chmodSync(path, 0o600);
    }
  };
  walk(dataDir);
}

function lockDataDir(dataDir: string): () => void {
  restrictDataDir(dataDir);
  const path = resolve(dataDir, LOCK_FILE);
  const inUse = (owner: number) =>
    new ClerkSyncError(
      'database_in_use',
      `The embedded database in ${dataDir} is in use by process ${owner}. PGlite serves one process: stop that one, use another CLERK_SYNC_DATA_DIR, or set DATABASE_URL to share a Postgres. (If no such process uses it, delete ${path}.)`,
    );
  if (held.has(path)) throw inUse(process.pid);
  const take = (): (() => void) | undefined => {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return undefined;
    }
    held.add(path);
    return () => {
      held.delete(path);
      if (readIfExists(path) === String(process.pid)) rmSync(path, { force: true });
    };
  };
  // Creating the lock file is atomic ('wx'). Removing a stale one is not (read, decide, delete):
  // two processes could each delete the other's fresh lock. So a stale lock is removed only under
  // a second, atomic lock (a folder: mkdir succeeds for one process), after reading it again.
  const takeover = `${path}.takeover`;
  const deadline = Date.now() + 5000;
  for (;;) {
    const unlock = take();
    if (unlock) return unlock;
    const owner = Number.parseInt(readIfExists(path) ?? '', 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) throw inUse(owner);
    let mine = false;
    try {
      mkdirSync(takeover);
      mine = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A takeover left by a process that died in it (it takes milliseconds) is cleared.
      if (Date.now() - (statIfExists(takeover)?.mtimeMs ?? Date.now()) > 10_000) rmSync(takeover, { recursive: true, force: true });
    }
    if (mine) {
      try {
        // Still the stale lock we judged (no other process replaced it meanwhile)?
        const again = Number.parseInt(readIfExists(path) ?? '', 10);
        if (again === owner || !Number.isInteger(again)) rmSync(path, { force: true });
        const unlockAfter = take();
        if (unlockAfter) return unlockAfter;
      } finally {
        rmSync(takeover, { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline) throw inUse(Number.parseInt(readIfExists(path) ?? '0', 10));
    sleepSync(20);
  }
}

function statIfExists(path: string): { mtimeMs: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Start-up only: a takeover under way elsewhere takes milliseconds. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function wrapPGlite(lite: PGlite): Db {
  const toResult = <T>(r: { rows: unknown[]; affectedRows?: number }): QueryResult<T> => ({
    rows: r.rows as T[],
    rowCount: r.affectedRows ?? r.rows.length,
  });
  return {
    kind: 'pglite',
    query: async (text, params) => toResult(await lite.query(text, params as unknown[] | undefined)),
    // No lockTimeoutMs: with one connection, no other transaction can hold a lock to wait for.
    transaction: (fn) =>
      lite.transaction(async (t) => {
        const tx: Queryable = { query: async (text, params) => toResult(await t.query(text, params as unknown[] | undefined)) };
        return fn(tx);
      }),
    async listen(channel, onNotify) {
      const unsubscribe = await lite.listen(channel, onNotify);
      return unsubscribe;
    },
    close: () => lite.close(),
  };
}
