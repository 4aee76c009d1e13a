/**
 * `Db` on node-postgres: Postgres and Neon (use Neon's direct connection string for LISTEN,
 * advisory locks and migrations; the pooled one works for intake and apply).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { isDatabaseUnavailable, type Db, type Queryable, type QueryResult } from '../core/db.js';

/**
 * A rollback is one round trip: a database slower than 5 s to answer one is treated as gone. pg
 * reads `query_timeout` per query too, though its QueryConfig type does not declare it.
 */
const ROLLBACK = { text: 'rollback', query_timeout: 5000 };

export interface PgDbOptions {
  connectionString: string;
  /** Pool size. @default 10 */
  max?: number;
  /** How long to wait for a connection before failing (the receiver then answers 503). @default 5000 */
  connectionTimeoutMillis?: number;
  /** Client-side query timeout so a hung database cannot hold a request forever. Client-side
   * because a server-side `statement_timeout` is a startup parameter that PgBouncer-based
   * poolers (Neon's pooled endpoint) may refuse. @default 30000 */
  queryTimeoutMillis?: number;
  /** Name parameterised statements so each connection parses and plans them once (measured:
   * apply 3,861 → 5,418 events/s in bench/apply.ts). Turn off for a transaction pooler without
   * prepared-statement support (PgBouncer before 1.21). @default true */
  preparedStatements?: boolean;
}

export function createPgDb(options: PgDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    query_timeout: options.queryTimeoutMillis ?? 30000,
    idleTimeoutMillis: 30000,
  });
  // An idle client losing its connection (database restart) must not crash the process;
  // the pool discards it and the next query gets a fresh one.
  pool.on('error', () => {});

  const prepared = options.preparedStatements ?? true;
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (!name) {
      name = `cs_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      names.set(text, name);
    }
    return name;
  };

  const run = async <T>(q: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
    // Only statements with parameters are named: those are the repeated ones (DDL and one-off
    // statements go unnamed, so nothing is kept prepared for them).
    const result =
      prepared && params && params.length > 0
        ? await q.query({ name: nameOf(text), text, values: params as unknown[] })
        : await q.query(text, params as unknown[] | undefined);
    return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
  };

  return {
    kind: 'pg',
    query: (text, params) => run(pool, text, params),
    async transaction(fn, options = {}) {
      const client = await pool.connect();
      let broken = false;
      // A connection lost between two statements (a database restart) is emitted as 'error' on the
      // checked-out client, where the pool no longer listens: unheard, it would end the process.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      // Only this connection's own statements can tell that it stopped answering; an error the
      // caller's code throws (a hook's HTTP call reset) says nothing about it.
      const own = <R>(statement: Promise<R>): Promise<R> =>
        statement.catch((error: unknown) => {
          if (isDatabaseUnavailable(error)) broken = true;
          throw error;
        });
      try {
        // One round trip: a simple query may hold several statements.
        const timeout = options.lockTimeoutMs;
        await own(client.query(timeout === undefined ? 'begin' : `begin; set local lock_timeout = ${Math.max(1, Math.round(timeout))}`));
        const tx: Queryable = { query: (text, params) => own(run(client, text, params)) };
        const result = await fn(tx);
        await own(client.query('commit'));
        return result;
      } catch (error) {
        // A connection that stopped answering (a statement past its timeout is still running on
        // it, and a rollback would queue behind it for a whole timeout more) is closed instead:
        // Postgres rolls back the transaction of a closed connection.
        if (!broken) {
          try {
            await client.query(ROLLBACK);
          } catch {
            broken = true;
          }
        }
        throw error;
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    async listen(channel, onNotify) {
      const client = new pg.Client({ connectionString: options.connectionString });
      client.on('error', () => {});
      await client.connect();
      client.on('notification', (msg) => {
        if (msg.channel === channel) onNotify(msg.payload ?? '');
      });
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      return async () => {
        await client.end().catch(() => {});
      };
    },
    close: () => pool.end(),
  };
}
