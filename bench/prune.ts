/**
 * Retention benchmark (decision 0005): does pruning a large backlog hurt intake? In a fresh
 * database on the local Postgres, seeds 1,000,000 applied events received 60–90 days ago with
 * 1.5–4 KB payloads (generate_series; the filler is hex digests, which do not compress, so most
 * payloads are TOASTed: the costlier case for a delete), vacuums, and starts a clerk-sync
 * receiver in its own process (bench/intake-server.ts, intake only). Then:
 *
 * 1. the intake maximum: a closed loop of keep-alive loopback connections, bodies signed ahead;
 * 2. intake p99 at half that rate (open loop: each request's latency counts from when it was due,
 *    so a stall is not hidden by the sender waiting), without pruning: `--seconds`/2 before the
 *    pruning phase and as long after it, pooled;
 * 3. the same load while `prune` runs as the worker runs it (`WORKER_PRUNE_PACE`: batches sized
 *    to about 10 ms, a tenth of one connection's time, 30-day window) until the backlog is gone
 *    (at least `--seconds`).
 *
 * Prints both p99s and their ratio (target ≤ 2), rows pruned per second, and the machine's load
 * average around each phase (the machine may be shared: compare the ratio, not absolute times).
 *
 *   npm run bench:prune [-- --events 1000000 --seconds 30]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { prune, WORKER_PRUNE_PACE } from '../src/apply/prune.js';
import { migrate } from '../src/db/migrate.js';
import { createPgDb } from '../src/db/pg.js';
import { signedHeaders } from '../src/verify/index.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';
import { loadAverage } from './support/proc.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '30' },
    url: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const SEED = Number(values.events);
const SECONDS = Number(values.seconds);
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const RUN = randomBytes(4).toString('hex');
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('set synchronous_commit = off');
    const chunk = 100_000;
    for (let from = 1; from <= SEED; from += chunk) {
      const to = Math.min(SEED, from + chunk - 1);
      await client.query(
        `insert into clerk.webhook_events (id, type, clerk_timestamp, instance_id, payload, source, received_at, status, attempts, next_attempt_at, applied_at)
         select 'msg_old_' || lpad(i::text, 9, '0'), 'user.updated', (extract(epoch from ts) * 1000)::bigint, 'ins_bench',
                jsonb_build_object(
                  'type', 'user.updated', 'object', 'event', 'instance_id', 'ins_bench', 'timestamp', (extract(epoch from ts) * 1000)::bigint,
                  'event_attributes', jsonb_build_object('http_request', jsonb_build_object('client_ip', '192.0.2.' || (i % 250), 'user_agent', 'Mozilla/5.0 (bench)')),
                  'data', jsonb_build_object(
                    'id', 'user_' || (i % 200000), 'object', 'user', 'first_name', 'First' || i, 'last_name', 'Last' || i,
                    'username', 'user' || i, 'primary_email_address_id', 'idn_' || i, 'updated_at', (extract(epoch from ts) * 1000)::bigint,
                    'email_addresses', jsonb_build_array(jsonb_build_object('id', 'idn_' || i, 'object', 'email_address', 'email_address', 'u' || i || '@example.com',
                      'verification', jsonb_build_object('status', 'verified', 'strategy', 'email_code'))),
                    'public_metadata', jsonb_build_object('notes', substr(f.filler, 1 + (i % 64), 1100 + ((i::bigint * 7919) % 2500)::int)))),
                'webhook', ts, 'applied', 1, ts, ts
         from generate_series($1::int, $2::int) as i
         cross join lateral (select now() - interval '60 days' - make_interval(secs => (i % 2592000)) as ts) t
         cross join (select string_agg(md5(k::text), '') as filler from generate_series(1, 120) k) f`,
        [from, to],
      );
      log(`seeded ${to} / ${SEED}`);
    }
    await client.query('vacuum (analyze) clerk.webhook_events');
    await client.query('checkpoint');
    const size = await client.query<{ rows: string; table: string; total: string; avg: string }>(
      `select count(*)::text as rows, pg_size_pretty(pg_table_size('clerk.webhook_events')) as table,
              pg_size_pretty(pg_total_relation_size('clerk.webhook_events')) as total,
              (select round(avg(pg_column_size(payload::text)))::text from (select payload from clerk.webhook_events limit 10000) s) as avg
       from clerk.webhook_events`,
    );
    const s = size.rows[0]!;
    log(`seeded ${s.rows} events: table ${s.table} (with TOAST), ${s.total} with indexes, payload text ~${s.avg} bytes on average`);
  } finally {
    await client.end();
  }
}

function startReceiver(databaseUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./intake-server.ts', import.meta.url).pathname, 'clerk-sync', databaseUrl, SECRET], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
  });
}

let sequence = 0;
function nextDelivery(): { body: Buffer; headers: Record<string, string | number> } {
  const i = sequence++;
  const id = `msg_new_${RUN}_${i}`;
  const body = Buffer.from(
    JSON.stringify({
      type: 'user.updated',
      object: 'event',
      timestamp: Date.now(),
      instance_id: 'ins_bench',
      data: { id: `user_${i % 5000}`, object: 'user', first_name: 'Bench', last_name: 'Mark', updated_at: Date.now() + i, email_addresses: [{ id: `idn_${i}`, email_address: `u${i}@example.com` }], public_metadata: { notes: 'x'.repeat(1500) } },
    }),
  );
  const headers = signedHeaders({ id, timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET });
  return { body, headers: { ...headers, 'content-length': body.length } };
}

/** The answer's status, or the connection error's code (ECONNRESET, ...) when there was none. */
function send(port: number, agent: http.Agent): Promise<number | string> {
  const d = nextDelivery();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/webhooks/clerk', method: 'POST', agent, headers: d.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(d.body);
  });
}

/** Closed loop: the most this receiver takes on this machine, requests per second. */
async function maxRate(port: number, count: number, concurrency: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let left = count;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await send(port, agent);
    }),
  );
  agent.destroy();
  return count / ((performance.now() - started) / 1000);
}

/** Open loop at `rate` until `until()` says stop (at least `minSeconds`); latencies count from when each request was due. */
async function paced(port: number, rate: number, until: () => boolean, minSeconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let failed = 0;
  const failures = new Map<number | string, number>();
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; ; i++) {
    const due = started + (i / rate) * 1000;
    if (due - started >= minSeconds * 1000 && until()) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      send(port, agent).then((status) => {
        latencies.push(performance.now() - due);
        if (typeof status !== 'number' || status < 200 || status >= 300) {
          failed++;
          failures.set(status, (failures.get(status) ?? 0) + 1);
        }
      }),
    );
    if (inFlight.length > 1000) await Promise.all(inFlight.splice(0, 500));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { ...summarize(latencies, failed, (performance.now() - started) / 1000), failures };
}

function summarize(latencies: number[], failed: number, seconds: number) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return { latencies, requests: sorted.length, failed, seconds, p50: pct(0.5), p99: pct(0.99), max: sorted[sorted.length - 1]! };
}

const describe = (r: ReturnType<typeof summarize>) =>
  `${r.requests} requests in ${r.seconds.toFixed(1)} s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, failed ${r.failed}`;

async function main(): Promise<void> {
  const name = `clerk_sync_bench_prune_${RUN}`;
  await queryOnce(values.url!, `create database ${name}`);
  const url = withDatabase(values.url!, name);
  let receiver: ChildProcess | undefined;
  try {
    log(`machine: ${os.cpus().length} cores, load average ${loadAverage()}`);
    const db = createPgDb({ connectionString: url, max: 2 });
    await migrate(db);
    await seed(url);
    const started = await startReceiver(url);
    receiver = started.child;
    const port = started.port;

    await maxRate(port, 1000, 32);
    log(`load before the maximum: ${loadAverage()}`);
    const max = await maxRate(port, 6000, 32);
    const rate = Math.max(1, Math.floor(max / 2));
    log(`intake maximum ${Math.round(max)}/s; paced phases run at half: ${rate}/s`);

    // The baseline is measured before and after the pruning phase and pooled, so a burst of other
    // work on a shared machine weighs on both sides alike rather than on one.
    const loadA = loadAverage();
    const before = await paced(port, rate, () => true, SECONDS / 2);
    log(`without pruning (before): ${describe(before)} (load ${loadA} → ${loadAverage()})`);

    const loadB = loadAverage();
    let pruning = true;
    let pruneSeconds = 0;
    const pruneStarted = performance.now();
    const pruned = prune(db, { schema: 'clerk', days: 30, ...WORKER_PRUNE_PACE }).finally(() => {
      pruning = false;
      pruneSeconds = (performance.now() - pruneStarted) / 1000;
    });
    const busy = await paced(port, rate, () => !pruning, SECONDS);
    const result = await pruned;
    log(`while pruning: ${describe(busy)} (load ${loadB} → ${loadAverage()})`);
    for (const [phase, r] of [['before', before], ['while pruning', busy]] as const) {
      if (r.failures.size > 0) log(`failed requests ${phase} by status or connection error: ${JSON.stringify(Object.fromEntries(r.failures))}`);
    }
    log(`pruned ${result.events} events in ${pruneSeconds.toFixed(1)} s: ${Math.round(result.events / pruneSeconds)} rows/s`);

    const loadC = loadAverage();
    const after = await paced(port, rate, () => true, SECONDS / 2);
    log(`without pruning (after): ${describe(after)} (load ${loadC} → ${loadAverage()})`);
    if (after.failures.size > 0) log(`failed requests after by status: ${JSON.stringify(Object.fromEntries(after.failures))}`);
    const quiet = summarize([...before.latencies, ...after.latencies], before.failed + after.failed, before.seconds + after.seconds);
    log(`without pruning (pooled): ${describe(quiet)}`);
    const left = await db.query<{ n: string }>(`select count(*)::text as n from clerk.webhook_events where id like 'msg_old_%'`);
    const ratio = busy.p99 / quiet.p99;
    console.log(
      JSON.stringify({
        seeded: SEED,
        cores: os.cpus().length,
        intakeMaxPerSecond: Math.round(max),
        pacedPerSecond: rate,
        p99WithoutPruningMs: Number(quiet.p99.toFixed(2)),
        p99WhilePruningMs: Number(busy.p99.toFixed(2)),
        ratio: Number(ratio.toFixed(2)),
        // The pooled baseline includes the minutes after a mass delete (autovacuum of the pruned
        // table), which are slower than before it: the ratio to the untouched before is shown too.
        p99BeforeMs: Number(before.p99.toFixed(2)),
        p99AfterMs: Number(after.p99.toFixed(2)),
        ratioToBefore: Number((busy.p99 / before.p99).toFixed(2)),
        target: '≤ 2',
        pruned: result.events,
        oldEventsLeft: Number(left.rows[0]!.n),
        prunedPerSecond: Math.round(result.events / pruneSeconds),
        failedRequests: quiet.failed + busy.failed,
        loadAverageAtEnd: loadAverage(),
      }),
    );
    await db.close();
  } finally {
    receiver?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await queryOnce(values.url!, `drop database if exists ${name} with (force)`);
  }
}

await main();
