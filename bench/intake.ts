/**
 * Intake benchmark: the seeds' hand-written route and clerk-sync side by side, interleaved, on
 * the local Postgres with default durability, 64 keep-alive connections, bodies signed ahead of
 * time. Each receiver runs in its own child process (bench/intake-server.ts); this process is
 * the load generator (bench/support/http-load.ts), and its CPU per request is reported too.
 *
 * Bodies: the realistic mix (bench/support/intake-events.ts: every projected type, weighted like
 * a live instance, about 1.8 KB on average) and, as a second set of rows, the earlier small
 * user.updated body (about 350 bytes).
 *
 * Per receiver: events/s and its ratio to the seeds' route of the same round; p50/p99 from
 * request to answer; `applied/s`, events divided by the time until every event is in the
 * projections (the baseline writes its row in the request, so its rate is that); CPU per event
 * of the receiver and of Postgres (from /proc: the backends of the run's database and the WAL
 * writer, checkpointer and background writer, from the start of the load until all is
 * applied); WAL bytes per event (pg_current_wal_lsn() before and after: the whole cluster's,
 * so other databases' writes count); how many cores the whole machine kept busy during the
 * load (/proc/stat: other processes count). `ceiling` answers 200 without any work: what the
 * machine and the load generator leave to a receiver. After each run every id that got a 2xx
 * is looked up: `lost` must be 0.
 *
 *   npm run bench:intake [-- --events 10000 --rounds 3 --connections 64 --no-pglite --profile DIR]
 *   npm run bench:intake -- --only baseline:realistic,clerk-sync:realistic,variant --variant '{"maxInFlight":2}'
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signedHeaders } from '../src/verify/index.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';
import { encodeRequest, sendAll } from './support/http-load.js';
import { EventMix, smallEvent, type BenchEvent } from './support/intake-events.js';
import { processTicks } from './support/proc.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    /** Comma-separated rows to run (see ROWS); default all. */
    only: { type: 'string' },
    'no-pglite': { type: 'boolean', default: false },
    /** JSON `intake` options for an added row, `clerk-sync serve` with them (realistic bodies), to compare settings in one run. */
    variant: { type: 'string' },
    /** Writes a V8 CPU profile of each receiver process into this folder. */
    profile: { type: 'string' },
    url: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const HZ = 100; // USER_HZ: /proc reports CPU time in 1/100 s on Linux

type Kind = 'ceiling' | 'baseline' | 'clerk-sync' | 'clerk-sync-worker' | 'clerk-sync-pglite';
interface Row {
  label: string;
  kind: Kind;
  bodies: 'realistic' | 'small';
  /** JSON merged into clerk-sync's `intake` options. */
  intake?: string;
  /** Fraction of EVENTS per run (PGlite is slower: fewer events keep the run short). */
  share: number;
}
const ALL_ROWS: Row[] = [
  { label: 'ceiling (no-op)', kind: 'ceiling', bodies: 'realistic', share: 1 },
  { label: "seeds' route", kind: 'baseline', bodies: 'realistic', share: 1 },
  { label: 'clerk-sync serve', kind: 'clerk-sync', bodies: 'realistic', share: 1 },
  { label: 'clerk-sync serve, apply at intake off', kind: 'clerk-sync-worker', bodies: 'realistic', share: 1 },
  { label: "seeds' route", kind: 'baseline', bodies: 'small', share: 1 },
  { label: 'clerk-sync serve', kind: 'clerk-sync', bodies: 'small', share: 1 },
  { label: 'clerk-sync serve on PGlite', kind: 'clerk-sync-pglite', bodies: 'realistic', share: 0.4 },
];
if (values.variant) ALL_ROWS.splice(3, 0, { label: `clerk-sync serve, intake ${values.variant}`, kind: 'clerk-sync', bodies: 'realistic', share: 1, intake: values.variant });
const ROWS = ALL_ROWS.filter((r) => !(values['no-pglite'] && r.kind === 'clerk-sync-pglite'))
  .filter((r) => !values.only || values.only.split(',').includes(`${r.kind}:${r.bodies}`) || (r.intake !== undefined && values.only.split(',').includes('variant')));

const admin = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => queryOnce<T>(values.url!, sql, params);

interface Receiver {
  child: ChildProcess;
  port: number;
  /** Runs SQL on the receiver's own clerk-sync database (over IPC: PGlite lives in that process). */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

function startReceiver(kind: Kind, database: string, intake?: string): Promise<Receiver> {
  const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', new URL('./intake-server.ts', import.meta.url).pathname, kind, database, SECRET, ...(intake ? [intake] : [])], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let queue = Promise.resolve<unknown>(undefined);
  const query = <T>(sql: string, params?: unknown[]) => {
    const run = queue.then(
      () =>
        new Promise<T[]>((resolve, reject) => {
          child.once('message', (m: { rows?: T[]; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m.rows!)));
          child.send({ sql, params });
        }),
    );
    queue = run.catch(() => undefined);
    return run;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), query });
    });
    child.once('exit', (code) => reject(new Error(`${kind} receiver exited with ${code}`)));
  });
}

async function stopReceiver(r: Receiver): Promise<void> {
  if (r.child.exitCode !== null) return;
  const exited = new Promise((resolve) => r.child.once('exit', resolve));
  r.child.kill('SIGTERM');
  await exited;
}

const mix = new EventMix();
let sequence = 0;

/** Signed requests, with their svix ids. */
function prepare(n: number, bodies: Row['bodies'], port: number, path: string): { ids: string[]; requests: Buffer[]; bytes: number } {
  const timestamp = Math.floor(Date.now() / 1000);
  const ids: string[] = [];
  const requests: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const id = `msg_bench_${++sequence}`;
    const event: BenchEvent = bodies === 'realistic' ? mix.next() : smallEvent(sequence, Date.now() + sequence);
    bytes += event.body.length;
    ids.push(id);
    requests.push(encodeRequest(port, path, signedHeaders({ id, timestamp, body: event.body, secret: SECRET }), event.body));
  }
  return { ids, requests, bytes };
}


/** Busy and total ticks of the whole machine. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3]! - cpu[4]!, total };
}

async function postgresPids(database: string): Promise<number[]> {
  const rows = await admin<{ pid: number }>(
    `select pid from pg_stat_activity where (datname = $1 and pid <> pg_backend_pid()) or backend_type in ('walwriter', 'checkpointer', 'background writer')`,
    [database],
  );
  return rows.map((r) => r.pid);
}

const sumTicks = (pids: number[]) => pids.reduce((sum, pid) => sum + processTicks(pid), 0);

interface Measured {
  rate: number;
  p50: number;
  p99: number;
  appliedRate: number;
  receiverMs: number;
  postgresMs: number | null;
  walBytes: number;
  busyCores: number;
  loadGenMs: number;
  failed: number;
  lost: number;
  bodyBytes: number;
}

async function run(row: Row, database: string, pgliteDir: string | undefined): Promise<Measured> {
  const receiver = await startReceiver(row.kind, pgliteDir ?? withDatabase(values.url!, database), row.intake);
  try {
    const path = row.kind === 'baseline' ? '/api/webhooks/clerk' : '/webhooks/clerk';
    const n = Math.round(EVENTS * row.share);
    const warm = prepare(Math.min(1500, n), row.bodies, receiver.port, path);
    await sendAll(receiver.port, warm.requests, CONNECTIONS);
    const clerk = row.kind.startsWith('clerk-sync');
    const pglite = row.kind === 'clerk-sync-pglite';
    const wal = async () => {
      const [r] = pglite ? await receiver.query<{ lsn: string }>(`select pg_current_wal_lsn()::text as lsn`) : await admin<{ lsn: string }>(`select pg_current_wal_lsn()::text as lsn`);
      const [high, low] = r!.lsn.split('/').map((part) => BigInt(`0x${part}`));
      return Number((high! << 32n) + low!);
    };
    const done = async () => {
      const [r] = await receiver.query<{ n: number }>(`select count(*)::int as n from clerk.webhook_events where status not in ('pending', 'failed')`);
      return r!.n;
    };
    const before = clerk ? await done() : 0;
    const events = prepare(n, row.bodies, receiver.port, path);
    const pids = pglite ? [] : await postgresPids(database);
    const walBefore = row.kind === 'ceiling' ? 0 : await wal();
    const receiverBefore = processTicks(receiver.child.pid!);
    const postgresBefore = sumTicks(pids);
    const machineBefore = machineTicks();
    const started = performance.now();

    const load = await sendAll(receiver.port, events.requests, CONNECTIONS);

    const machineAfter = machineTicks();
    let appliedSeconds = load.seconds;
    if (clerk) {
      const deadline = performance.now() + 120_000;
      while ((await done()) < before + load.ok.length && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      appliedSeconds = (performance.now() - started) / 1000;
    }
    const receiverTicks = processTicks(receiver.child.pid!) - receiverBefore;
    const postgresTicks = sumTicks(pids) - postgresBefore;
    const walBytes = row.kind === 'ceiling' ? 0 : (await wal()) - walBefore;

    const okIds = load.ok.map((i) => events.ids[i]!);
    let stored = okIds.length;
    if (row.kind === 'baseline') {
      const [r] = await queryOnce<{ n: number }>(withDatabase(values.url!, database), `select count(*)::int as n from baseline_users where id = any($1::text[])`, [okIds]);
      stored = r!.n;
    } else if (clerk) {
      const [r] = await receiver.query<{ n: number }>(`select count(*)::int as n from clerk.webhook_events where id = any($1::text[])`, [okIds]);
      stored = r!.n;
    }

    const total = machineAfter.total - machineBefore.total;
    return {
      rate: load.rate,
      p50: load.p50,
      p99: load.p99,
      appliedRate: n / appliedSeconds,
      receiverMs: (receiverTicks / HZ / n) * 1000,
      postgresMs: pglite ? null : (postgresTicks / HZ / n) * 1000,
      walBytes: walBytes / n,
      busyCores: ((machineAfter.busy - machineBefore.busy) / total) * os.cpus().length,
      loadGenMs: load.cpuMs / n,
      failed: load.failed,
      lost: okIds.length - stored,
      bodyBytes: events.bytes / n,
    };
  } finally {
    await stopReceiver(receiver);
  }
}

const tag = randomBytes(4).toString('hex');
const databases = new Map<Kind, string>();
for (const row of ROWS) {
  if (row.kind === 'clerk-sync-pglite' || databases.has(row.kind)) continue;
  const database = `clerk_sync_bench_${tag}_${row.kind.replaceAll('-', '_')}`;
  await admin(`create database ${database}`);
  databases.set(row.kind, database);
}
const results = new Map<Row, Measured[]>(ROWS.map((r) => [r, []]));
const ratios = new Map<Row, number[]>(ROWS.map((r) => [r, []]));
const loadBefore = os.loadavg();
try {
  for (let round = 0; round < ROUNDS; round++) {
    const rates = new Map<Row, number>();
    for (const row of ROWS) {
      const pgliteDir = row.kind === 'clerk-sync-pglite' ? mkdtempSync(path.join(os.tmpdir(), 'clerk-sync-bench-')) : undefined;
      try {
        const m = await run(row, databases.get(row.kind) ?? '', pgliteDir);
        results.get(row)!.push(m);
        rates.set(row, m.rate);
        process.stderr.write(`round ${round + 1}/${ROUNDS} ${row.label} (${row.bodies}): ${m.rate.toFixed(0)} events/s, p99 ${m.p99.toFixed(0)} ms, busy ${m.busyCores.toFixed(2)}\n`);
      } finally {
        if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true });
      }
    }
    for (const row of ROWS) {
      const base = ROWS.find((b) => b.kind === 'baseline' && b.bodies === row.bodies);
      if (base && rates.has(base)) ratios.get(row)!.push(rates.get(row)! / rates.get(base)!);
    }
  }
} finally {
  for (const database of databases.values()) await admin(`drop database if exists ${database} with (force)`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const range = (xs: number[], digits: number) => (xs.length > 1 ? ` (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})` : '');
const of = (row: Row, pick: (m: Measured) => number) => median(results.get(row)!.map(pick));
const cores = os.cpus().length;

console.log(
  `\nIntake benchmark, ${new Date().toISOString().slice(0, 10)}: ${ROUNDS} interleaved rounds of ${EVENTS} events per receiver (PGlite ${Math.round(EVENTS * 0.4)}), ${CONNECTIONS} keep-alive connections, ` +
    `${cores} cores (${os.cpus()[0]?.model.trim() ?? 'cpu'}), Node ${process.version}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} after. Medians of the rounds; the ratio's range in brackets.\n`,
);
console.log(`| bodies | receiver | events/s | ratio | p50 ms | p99 ms | applied/s | receiver CPU ms/event | Postgres CPU ms/event | WAL bytes/event | machine busy (of ${cores} cores) | load generator CPU ms/request | non-2xx | lost |`);
console.log('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const row of ROWS) {
  const r = ratios.get(row)!;
  const ms = results.get(row)!;
  const noDb = row.kind === 'ceiling';
  console.log(
    `| ${row.bodies} (${of(row, (m) => m.bodyBytes).toFixed(0)} B) | ${row.label} | ${of(row, (m) => m.rate).toFixed(0)} | ${r.length ? `${median(r).toFixed(2)}×${range(r, 2)}` : ''} | ${of(row, (m) => m.p50).toFixed(1)} | ${of(row, (m) => m.p99).toFixed(1)} | ` +
      `${noDb ? '' : of(row, (m) => m.appliedRate).toFixed(0)} | ${of(row, (m) => m.receiverMs).toFixed(3)} | ${noDb ? '' : row.kind === 'clerk-sync-pglite' ? 'in the receiver' : of(row, (m) => m.postgresMs!).toFixed(3)} | ` +
      `${noDb ? '' : of(row, (m) => m.walBytes).toFixed(0)} | ${of(row, (m) => m.busyCores).toFixed(2)} | ${of(row, (m) => m.loadGenMs).toFixed(3)} | ${ms.reduce((a, m) => a + m.failed, 0)} | ${ms.reduce((a, m) => a + m.lost, 0)} |`,
  );
}
if ([...results.values()].flat().some((m) => m.lost !== 0)) {
  console.error('LOST acknowledged events');
  process.exit(1);
}
