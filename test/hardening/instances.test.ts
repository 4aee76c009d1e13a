/**
 * Several receivers on one Postgres: two `serve` processes started at the same instant on a fresh
 * database apply each migration once, and under load, with every delivery sent to both at once,
 * every event is stored exactly once. Needs TEST_DATABASE_URL (PGlite is single-process).
 * @see issue #7
 */
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/db/generated/migrations.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { eventBody, send, signed, startServe, type ServeProcess } from './support.js';

const postgres = backends.find((b) => b.name === 'postgres');

describe.skipIf(!postgres)('two receivers on one Postgres', () => {
  let database: TestDatabase;
  let servers: ServeProcess[] = [];

  beforeAll(async () => {
    database = await postgres!.create({ migrated: false });
    const env = { DATABASE_URL: database.url!, CLERK_SYNC_LOG_LEVEL: 'warn' };
    // Both start together: each runs the migrator on the empty database as it boots.
    servers = await Promise.all([startServe(env, { args: ['--no-worker'] }), startServe(env, { args: ['--no-worker'] })]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await database?.drop();
  });

  it('both start on a fresh database and each migration is applied once', async () => {
    const rows = (await database.db.query<{ id: number; n: string }>('select id, count(*) as n from clerk.schema_migrations group by id order by id')).rows;
    expect(rows.map((r) => Number(r.id))).toEqual(migrations.map((m) => m.id));
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    for (const s of servers) expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  });

  it('stores every event once when each delivery reaches both receivers concurrently', async () => {
    const n = 1500;
    const agents = servers.map(() => new Agent({ keepAlive: true, maxSockets: 16 }));
    const answers: Array<[number, number]> = [];
    let duplicates = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) {
          const i = next++;
          const d = signed(`msg_two_${i}`, eventBody(`user_${i}`));
          const [a, b] = await Promise.all(servers.map((s, k) => send(`${s.url}/webhooks/clerk`, { ...d, agent: agents[k] })));
          answers.push([a!.status, b!.status]);
          duplicates += [a!.json?.duplicate, b!.json?.duplicate].filter(Boolean).length;
        }
      }),
    );
    for (const agent of agents) agent.destroy();
    expect(answers.every(([a, b]) => a === 200 && b === 200)).toBe(true);
    // Exactly one of the two answers per id says it stored the event.
    expect(duplicates).toBe(n);
    const stored = (await database.db.query<{ n: string; distinct_ids: string }>(`select count(*) as n, count(distinct id) as distinct_ids from clerk.webhook_events where id like 'msg\\_two\\_%'`)).rows[0]!;
    expect(Number(stored.n)).toBe(n);
    expect(Number(stored.distinct_ids)).toBe(n);
  });
});
