/**
 * `Db` on PGlite: Postgres compiled to WASM, in-process, persisted in a data folder. The
 * default when no DATABASE_URL is given, so the first run needs nothing installed. One
 * connection: PGlite serialises queries and transactions itself.
 */
import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from '../core/db.js';

/** dataDir: a folder, or undefined for an in-memory database (tests). */
export async function createPGliteDb(dataDir?: string): Promise<Db> {
  const lite = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  return wrapPGlite(lite);
}

export function wrapPGlite(lite: PGlite): Db {
  const toResult = <T>(r: { rows: unknown[]; affectedRows?: number }): QueryResult<T> => ({
    rows: r.rows as T[],
    rowCount: r.affectedRows ?? r.rows.length,
  });
  return {
    kind: 'pglite',
    query: async (text, params) => toResult(await lite.query(text, params as unknown[] | undefined)),
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
