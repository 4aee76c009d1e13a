/**
 * Apply benchmark: how fast one worker process drains a backlog of realistic events.
 *
 * The backlog (bench/support/realistic-mix.ts) is 100,000 events built from the captured Clerk
 * payloads, every projected type weighted as in a real instance, 2.1 KB per body on average,
 * over a population of 20,000 users, 2,000 organizations and 30,000 memberships that is already
 * projected, so most events update existing rows and some arrive stale. It is stored once,
 * pending, in a template database kept for the next invocation (`--fresh` rebuilds it, `--drop`
 * removes it); each run copies the template and starts a worker process
 * (bench/support/apply-worker.ts, the Worker `clerk-sync worker` runs) that drains it.
 *
 * Per run: wall time and events/s; CPU per event of the worker process and of its Postgres
 * backends (utime + stime from /proc/<pid>/stat, so Postgres must be on this machine); WAL
 * bytes per event (pg_current_wal_lsn before and after: cluster-wide, so other databases' writes
 * meanwhile count too); the load average before and after. Then the same mix on PGlite
 * (in-process, so one CPU figure for both), a tenth of the size by default with the population
 * scaled alike: PGlite builds it in memory at every invocation, slower than the drain itself.
 * The machine may be shared: repeat runs, compare rows of one invocation.
 *
 *   node --import tsx bench/apply.ts [--events 100000] [--runs 2] [--batch 500] [--concurrency 2]
 *        [--pglite-events 10000] [--users 20000] [--organizations 2000] [--memberships 30000]
 *        [--fresh] [--drop]
 *
 * For profiling, the worker process reads: BENCH_WORKER_ARGS (node flags, e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof`), BENCH_TRACE=1 (wall time per statement, printed when it stops),
 * BENCH_PG_OPTIONS (Postgres settings for its connections, e.g. `-c synchronous_commit=off`).
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_WORKER_SETTINGS } from '../src/apply/worker.js';
import { migrate } from '../src/db/migrate.js';
import { createPgDb } from '../src/db/pg.js';
import { defaultRegistry } from '../src/projections/entities/index.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';
import { projectPopulation, storeEvents, type DrainReport } from './support/backlog-db.js';
import { realisticMix, WEIGHTS } from './support/realistic-mix.js';
import { loadAverage, processTicks } from './support/proc.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '2' },
    batch: { type: 'string', default: String(DEFAULT_WORKER_SETTINGS.batchSize) },
    concurrency: { type: 'string', default: String(DEFAULT_WORKER_SETTINGS.concurrency) },
    'pglite-events': { type: 'string', default: '10000' },
    users: { type: 'string', default: '20000' },
    organizations: { type: 'string', default: '2000' },
    memberships: { type: 'string', default: '30000' },
    fresh: { type: 'boolean', default: false },
    drop: { type: 'boolean', default: false },
    url: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const PGLITE_EVENTS = Number(values['pglite-events']);
const POPULATION = { users: Number(values.users), organizations: Number(values.organizations), memberships: Number(values.memberships) };
const TICK_US = 1_000_000 / 100; // USER_HZ is 100 on Linux
const TEMPLATE_PREFIX = 'clerk_sync_apply_bench_';

const admin = <T = Record<string, unknown>>(sql: string) => queryOnce<T>(values.url!, sql);


const walLsn = async () => (await admin<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn'))[0]!.lsn;
const walBytes = async (from: string, to: string) => Number((await admin<{ b: string }>(`select pg_wal_lsn_diff('${to}', '${from}')::bigint as b`))[0]!.b);

interface Row {
  database: string;
  run: number;
  events: number;
  ms: number;
  workerUs: number | null;
  dbUs: number | null;
  walPerEvent: number | null;
  stats: DrainReport['stats'];
  loadBefore: string;
  loadAfter: string;
}

interface Seeded {
  backlogBytes: number;
  mix: Array<[string, number]>;
}

/**
 * The template database holding the population and the pending backlog. Building it is most of
 * the benchmark's time (minutes on a loaded machine), so it stays on the server, named after what
 * it was built from (the mix's code, the migrations, the sizes), and the next invocation reuses it;
 * what the report needs of the mix is kept in the database's comment. `--fresh` rebuilds it,
 * `--drop` removes it afterwards. Built under a temporary name and renamed when complete, so an
 * interrupted build is never reused.
 */
async function template(): Promise<{ name: string; seeded: Seeded }> {
  const key = createHash('sha1')
    .update(readFileSync(new URL('./support/realistic-mix.ts', import.meta.url)))
    .update(readFileSync(new URL('../src/db/generated/migrations.ts', import.meta.url)))
    .update(JSON.stringify([EVENTS, POPULATION]))
    .digest('hex')
    .slice(0, 12);
  const name = `${TEMPLATE_PREFIX}${key}`;
  for (const { datname } of await admin<{ datname: string }>(`select datname from pg_database where datname like '${TEMPLATE_PREFIX}%'`)) {
    if (datname !== name || values.fresh) await admin(`drop database if exists ${datname} with (force)`);
  }
  const kept = await admin<{ comment: string | null }>(`select shobj_description(oid, 'pg_database') as comment from pg_database where datname = '${name}'`);
  if (kept[0]?.comment) {
    console.error(`reusing ${name}`);
    return { name, seeded: JSON.parse(kept[0].comment) as Seeded };
  }
  const building = `${name}_building`;
  const t = performance.now();
  const seeded = await seedTemplate(building);
  await admin(`alter database ${building} rename to ${name}`);
  await admin(`comment on database ${name} is '${JSON.stringify(seeded)}'`);
  console.error(`built ${name} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return { name, seeded };
}

async function seedTemplate(name: string): Promise<Seeded> {
  await admin(`drop database if exists ${name} with (force)`);
  await admin(`create database ${name}`);
  const db = createPgDb({ connectionString: withDatabase(values.url!, name), max: 2 });
  try {
    await migrate(db);
    let t = performance.now();
    const step = (what: string) => {
      console.error(`  ${what}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
      t = performance.now();
    };
    const { population, backlog } = realisticMix(EVENTS, POPULATION);
    step('mix built');
    const mix = new Map<string, number>();
    for (const i of backlog) mix.set(i.type, (mix.get(i.type) ?? 0) + 1);
    await projectPopulation(db, population);
    step('population projected');
    await storeEvents(db, backlog);
    step('backlog stored');
    await db.query('vacuum analyze');
    step('vacuumed');
    return { backlogBytes: backlog.reduce((n, i) => n + i.payload.length, 0), mix: [...mix] };
  } finally {
    await db.close();
  }
}

async function runPostgres(template: string, run: number): Promise<Row> {
  const name = `${template}_r${run}`;
  await admin(`create database ${name} template ${template}`);
  try {
    const url = withDatabase(values.url!, name);
    const child = fork(new URL('./support/apply-worker.ts', import.meta.url), [url, String(EVENTS), String(BATCH), String(CONCURRENCY)], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_WORKER_ARGS?.split(' ').filter(Boolean) ?? [])] });
    const next = <T>(kind: string) =>
      new Promise<T>((resolve, reject) => {
        const onMessage = (m: { kind: string } & T) => {
          if (m.kind !== kind) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m);
        };
        const onExit = (code: number | null) => reject(new Error(`worker process exited (${code}) before ${kind}`));
        child.on('message', onMessage);
        child.once('exit', onExit);
      });
    const { pids } = await next<{ pids: number[] }>('ready');
    const loadBefore = loadAverage();
    const lsn = await walLsn();
    const worker0 = processTicks(child.pid!);
    const db0 = pids.map(processTicks);
    child.send({ kind: 'go' });
    const { ms } = await next<{ ms: number }>('drained');
    const workerTicks = processTicks(child.pid!) - worker0;
    const dbTicks = pids.map(processTicks).reduce((s, t, i) => s + t - db0[i]!, 0);
    const wal = await walBytes(lsn, await walLsn());
    const loadAfter = loadAverage();
    const stopped = next<{ stats: DrainReport['stats'] }>('stopped');
    child.send({ kind: 'stop' });
    const { stats } = await stopped;
    const left = Number((await queryOnce<{ n: string }>(url, `select count(*) as n from clerk.webhook_events where status not in ('applied', 'stale', 'ignored')`))[0]!.n);
    if (left > 0) throw new Error(`${left} events not applied after the drain`);
    return { database: 'Postgres', run, events: EVENTS, ms, workerUs: (workerTicks * TICK_US) / EVENTS, dbUs: (dbTicks * TICK_US) / EVENTS, walPerEvent: wal / EVENTS, stats, loadBefore, loadAfter };
  } finally {
    await admin(`drop database if exists ${name} with (force)`);
  }
}

async function runPGlite(): Promise<Row> {
  // The population shrinks with the backlog: PGlite holds everything in one process's memory.
  const scale = PGLITE_EVENTS / EVENTS;
  const population = { users: Math.ceil(POPULATION.users * scale), organizations: Math.ceil(POPULATION.organizations * scale), memberships: Math.ceil(POPULATION.memberships * scale) };
  const child = fork(new URL('./support/apply-pglite.ts', import.meta.url), [String(PGLITE_EVENTS), JSON.stringify(population), String(BATCH)], { execArgv: ['--import', 'tsx'] });
  const report = await new Promise<DrainReport & { loadBefore: string; loadAfter: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as DrainReport & { loadBefore: string; loadAfter: string }));
    child.once('exit', (code) => reject(new Error(`PGlite process exited (${code}) without a report`)));
  });
  return { database: 'PGlite', run: 1, events: PGLITE_EVENTS, ms: report.ms, workerUs: report.cpuUs / PGLITE_EVENTS, dbUs: null, walPerEvent: null, stats: report.stats, loadBefore: report.loadBefore, loadAfter: report.loadAfter };
}

async function main(): Promise<void> {
  const registered = new Set(defaultRegistry.types);
  const weighted = new Set(Object.keys(WEIGHTS));
  const unweighted = [...registered].filter((t) => !weighted.has(t));
  const unknown = [...weighted].filter((t) => !registered.has(t));
  if (unweighted.length + unknown.length > 0) throw new Error(`the mix and the registry disagree: not weighted ${unweighted.join(', ') || '-'}; not projected ${unknown.join(', ') || '-'}`);

  const { name, seeded } = await template();
  const rows: Row[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      rows.push(await runPostgres(name, run));
      console.error(`Postgres run ${run}: ${(rows.at(-1)!.ms / 1000).toFixed(1)} s`);
    }
  } finally {
    if (values.drop) await admin(`drop database if exists ${name} with (force)`);
  }
  if (PGLITE_EVENTS > 0) {
    try {
      rows.push(await runPGlite());
    } catch (error) {
      // The Postgres rows are still worth printing.
      console.error(`PGlite run failed: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  }

  const cpu = os.cpus();
  const version = (await admin<{ server_version: string }>('show server_version'))[0]!.server_version;
  console.log(`\nclerk-sync apply benchmark, ${new Date().toISOString().slice(0, 10)}: one worker process (batch ${BATCH}, ${CONCURRENCY} loops), ${EVENTS.toLocaleString('en')} pending events of ${seeded.mix.length} types, ${(seeded.backlogBytes / EVENTS / 1024).toFixed(1)} KB per body on average, over ${POPULATION.users.toLocaleString('en')} users, ${POPULATION.organizations.toLocaleString('en')} organizations and ${POPULATION.memberships.toLocaleString('en')} memberships already projected; Postgres ${version} on the same machine, ${cpu.length}× ${cpu[0]?.model.trim()}, Node ${process.version}`);
  const top = [...seeded.mix].sort((a, b) => b[1] - a[1]);
  console.log(`mix: ${top.slice(0, 8).map(([k, v]) => `${k} ${((100 * v) / EVENTS).toFixed(0)}%`).join(', ')}, ${top.length - 8} more types\n`);
  console.log('| database | run | events | seconds | events/s | worker CPU µs/event | Postgres CPU µs/event | WAL bytes/event | applied | stale | failed | load before → after |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  const fmt = (n: number | null) => (n === null ? '–' : Math.round(n).toLocaleString('en'));
  for (const r of rows) {
    console.log(
      `| ${r.database} | ${r.run} | ${r.events.toLocaleString('en')} | ${(r.ms / 1000).toFixed(1)} | ${fmt(r.events / (r.ms / 1000))} | ${fmt(r.workerUs)}${r.dbUs === null ? ' (with the database)' : ''} | ${fmt(r.dbUs)} | ${fmt(r.walPerEvent)} | ${r.stats.applied} | ${r.stats.stale} | ${r.stats.failed + r.stats.dead} | ${r.loadBefore} → ${r.loadAfter} |`,
    );
  }
  const failures = rows.reduce((n, r) => n + r.stats.failed + r.stats.dead, 0);
  if (failures > 0) {
    console.log(`\nFAIL: ${failures} events failed to apply`);
    process.exitCode = 1;
  }
}

await main();
