/**
 * Backfill benchmark: an instance the size users have (100,000 users, 10,000 organizations,
 * 30,000 memberships, payloads of Clerk's size) served by the local fake of the Backend API
 * under Clerk's production rate limit (1,000 requests per 10 s, enforced by the fake with 429
 * and Retry-After), backfilled into a throwaway Postgres database (clerk_sync_bench_backfill_*)
 * through `sync.backfill()` and applied as `clerk-sync backfill` does.
 *
 * Reports requests against the minimum (one per page of 500 of each listing, plus the users
 * count), listing time against the rate-limit floor, apply time and entities applied per
 * second, CPU of this process, peak RSS, and bytes written to the WAL.
 *
 *   node --import tsx bench/backfill.ts [--users 100000] [--organizations 10000] [--memberships 30000] [--rate 100]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createClerkSync } from '../src/service/clerk-sync.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    organizations: { type: 'string', default: '10000' },
    memberships: { type: 'string', default: '30000' },
    rate: { type: 'string', default: '100' },
    url: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const USERS = Number(values.users);
const ORGANIZATIONS = Number(values.organizations);
const MEMBERSHIPS = Number(values.memberships);
const RATE = Number(values.rate);
const NAME = `clerk_sync_bench_backfill_${randomBytes(4).toString('hex')}`;
const admin = <T = Record<string, unknown>>(sql: string) => queryOnce<T>(values.url!, sql);

async function main(): Promise<void> {
  // The fake Backend API in its own process, so this process's CPU and memory are the backfill's alone.
  const api = fork(new URL('./support/backfill-api.ts', import.meta.url).pathname, [String(USERS), String(ORGANIZATIONS), String(MEMBERSHIPS)], { execArgv: ['--import', 'tsx'] });
  const fake = await new Promise<{ url: string; secretKey: string; minimum: number; userBytes: number }>((resolve, reject) => {
    api.once('message', (m) => resolve(m as never));
    api.once('exit', (code) => reject(new Error(`the fake Backend API exited (${code})`)));
  });
  const stats = () => new Promise<{ requests: number; limited: number }>((resolve) => {
    api.once('message', (m) => resolve(m as never));
    api.send('stats');
  });

  await admin(`create database ${NAME}`);
  const url = withDatabase(values.url!, NAME);
  const sync = createClerkSync({ databaseUrl: url, clerkSecretKey: fake.secretKey, clerkApiUrl: fake.url, clerkApiRequestsPerSecond: RATE, logLevel: 'warn' });
  try {
    await sync.migrate();
    const walBefore = (await admin<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn'))[0]!.lsn;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let listed = 0;
    let applyStarted = 0;
    let applied = 0;
    const result = await sync.backfill({
      requestsPerSecond: RATE,
      applyPages: true,
      beforeFinish: async () => {
        listed = performance.now();
        applyStarted = performance.now();
        const counts = await sync.applyBackfilled();
        if (counts.failed + counts.dead > 0) throw new Error(`${counts.failed + counts.dead} events failed to apply`);
      },
    });
    const done = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const walAfter = (await admin<{ bytes: string }>(`select pg_wal_lsn_diff(pg_current_wal_lsn(), '${walBefore}')::bigint::text as bytes`))[0]!.bytes;
    if (!result.complete) throw new Error('the backfill did not complete');
    const db = await sync.db();
    applied = Number((await db.query<{ n: string }>(`select count(*)::text as n from clerk.webhook_events where status in ('applied', 'stale')`)).rows[0]!.n);
    const rows = async (table: string) => Number((await db.query<{ n: string }>(`select count(*)::text as n from clerk.${table}`)).rows[0]!.n);
    const [users, organizations, memberships] = [await rows('users'), await rows('organizations'), await rows('organization_memberships')];
    if (users !== USERS || organizations !== ORGANIZATIONS || memberships !== MEMBERSHIPS) throw new Error(`incomplete: ${users} users, ${organizations} organizations, ${memberships} memberships`);

    const { minimum, userBytes } = fake;
    const { limited } = await stats();
    const listingS = (listed - started) / 1000;
    const floorS = minimum / 100; // Clerk's production limit: 1,000 requests per 10 s
    const applyS = (done - applyStarted) / 1000;
    const entities = Object.values(result.counts).reduce((n, c) => n + (c?.listed ?? 0), 0);
    console.log(
      `backfill bench: ${USERS.toLocaleString('en')} users (${userBytes} bytes each as JSON), ${ORGANIZATIONS.toLocaleString('en')} organizations, ${MEMBERSHIPS.toLocaleString('en')} memberships; ` +
        `fake Backend API limited to 1,000 requests per 10 s; --rate ${RATE}; Postgres 15; ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    );
    console.log('| measure | value | target |');
    console.log('| --- | ---: | --- |');
    console.log(`| requests (429 answers) | ${result.requests} (${limited}) | ≤ 1.1 × minimum ${minimum} = ${Math.floor(minimum * 1.1)} |`);
    const wallS = (done - started) / 1000;
    console.log(`| listing and storing (applying alongside) | ${listingS.toFixed(1)} s | rate-limit floor ${floorS.toFixed(1)} s |`);
    console.log(`| apply left after the listing | ${applyS.toFixed(1)} s | |`);
    console.log(`| wall time | ${wallS.toFixed(1)} s | |`);
    console.log(`| entities stored and applied per second, end to end | ${Math.round(applied / wallS).toLocaleString('en')} | ≥ 5,000 |`);
    console.log(`| entities listed / applied | ${entities.toLocaleString('en')} / ${applied.toLocaleString('en')} | |`);
    console.log(`| CPU of the backfill process (client, storing, apply loop) | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s | |`);
    console.log(`| peak RSS of the backfill process | ${Math.round(process.resourceUsage().maxRSS / 1024)} MB | ≤ 300 MB |`);
    console.log(`| WAL written | ${(Number(walAfter) / 1e6).toFixed(0)} MB, ${Math.round(Number(walAfter) / entities).toLocaleString('en')} bytes/entity | |`);
  } finally {
    await sync.close();
    api.disconnect();
    await admin(`drop database if exists ${NAME} with (force)`);
  }
}

await main();
