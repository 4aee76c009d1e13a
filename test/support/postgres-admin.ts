/**
 * Throwaway databases on a Postgres server, shared by the tests, the benchmarks and the crash
 * and fuzz scripts: the connection string of another database on the same server, and one
 * statement on a short-lived connection (create/drop database, assertions).
 */
import pg from 'pg';

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function queryOnce<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}
