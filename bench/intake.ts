/**
 * Intake benchmark: the seeds' baseline route and clerk-sync side by side in one run, on the
 * local Postgres with default durability, at 16 and 64 concurrent connections. Each receiver
 * runs in its own child process; this process is the load generator (keep-alive loopback
 * HTTP, bodies signed ahead of time). After each run, every svix id that got a 2xx is looked
 * up in the database: `lost` must be 0.
 *
 * `ceiling` is a receiver that answers 200 without doing anything: the most that this machine,
 * shared with the load generator, allows any receiver (the load generator's own CPU counts).
 *
 * Then end to end: clerk-sync with its worker running, events/s from the first request until
 * every event is applied (the baseline writes its row in the request, so its intake rate is its
 * end-to-end rate), and the p99 time from 2xx to applied (`applied_at - received_at`) under a
 * paced load at half that rate. Twice: as `clerk-sync serve` runs (applying at intake), and with
 * `intake.apply: false` (the worker applies everything), side by side.
 *
 *   npm run bench:intake [-- --events 20000 --concurrency 16,64]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signedHeaders } from '../src/verify/index.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '16,64' },
    /** `intake`: the receivers alone; `e2e`: with the worker (its baseline is the 64-connection baseline run). */
    phases: { type: 'string', default: 'intake,e2e' },
    /** Writes a V8 CPU profile of each receiver process into this folder. */
    profile: { type: 'string' },
    url: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const EVENTS = Number(values.events);
const PHASES = new Set(values.phases!.split(','));
const LEVELS = values.concurrency!.split(',').map(Number);
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const admin = (sql: string) => queryOnce(values.url!, sql).then(() => undefined);

function startReceiver(kind: string, databaseUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', new URL('./intake-server.ts', import.meta.url).pathname, kind, databaseUrl, SECRET], {
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
    child.once('exit', (code) => reject(new Error(`${kind} receiver exited with ${code}`)));
  });
}

interface Prepared { id: string; body: Buffer; headers: Record<string, string | number> }

function prepare(n: number, run: string): Prepared[] {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => {
    const id = `msg_${run}_${i}`;
    const body = Buffer.from(
      JSON.stringify({
        type: 'user.updated',
        object: 'event',
        timestamp: Date.now(),
        instance_id: 'ins_bench',
        data: { id: `user_${i % 5000}`, object: 'user', first_name: 'Bench', last_name: 'Mark', updated_at: Date.now() + i, email_addresses: [{ id: `idn_${i}`, email_address: `u${i}@example.com` }], public_metadata: { role: 'member' } },
      }),
    );
    const headers = signedHeaders({ id, timestamp: now, body, secret: SECRET });
    return { id, body, headers: { ...headers, 'content-length': body.length } };
  });
}

async function load(port: number, path: string, events: Prepared[], concurrency: number, ratePerSecond?: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const ok: string[] = [];
  let failed = 0;
  let next = 0;
  const sendOne = (e: Prepared) =>
    new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: e.headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end(e.body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < events.length) {
        const index = next++;
        const e = events[index]!;
        if (ratePerSecond) {
          const due = started + (index / ratePerSecond) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        const t = performance.now();
        const status = await sendOne(e);
        latencies.push(performance.now() - t);
        if (status >= 200 && status < 300) ok.push(e.id);
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rate: events.length / seconds, p50: pct(0.5), p99: pct(0.99), ok, failed };
}

async function countStored(databaseUrl: string, kind: string, ids: string[]): Promise<number> {
  const table = kind === 'baseline' ? 'baseline_users' : 'clerk.webhook_events';
  const [r] = await queryOnce<{ n: number }>(databaseUrl, `select count(*)::int as n from ${table} where id = any($1::text[])`, [ids]);
  return r!.n;
}

async function waitApplied(databaseUrl: string, ids: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    for (;;) {
      const r = await c.query(`select count(*)::int as n from clerk.webhook_events where id = any($1::text[]) and status in ('applied', 'stale')`, [ids]);
      if (r.rows[0].n === ids.length) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await c.end();
  }
}

/** Apply transactions used: each stamps its events with its own `now()`. */
async function countBatches(databaseUrl: string, ids: string[]): Promise<number> {
  const [r] = await queryOnce<{ n: number }>(databaseUrl, `select count(distinct applied_at)::int as n from clerk.webhook_events where id = any($1::text[])`, [ids]);
  return r!.n;
}

async function applyLatencyP99(databaseUrl: string, ids: string[]): Promise<number> {
  const [r] = await queryOnce<{ p99: number }>(
    databaseUrl,
    `select percentile_cont(0.99) within group (order by extract(epoch from applied_at - received_at)) * 1000 as p99 from clerk.webhook_events where id = any($1::text[])`,
    [ids],
  );
  return Number(r!.p99);
}

/**
 * clerk-sync with its worker: the rate from the first request until all are applied, then the
 * 2xx-to-applied p99 at half that rate. On a database of its own: the intake runs leave their
 * events pending (no worker ran), and a worker started on them would apply that backlog first.
 */
async function endToEndRun(kind: 'clerk-sync+worker' | 'clerk-sync+worker-only'): Promise<EndToEnd> {
  const endToEnd: EndToEnd = { kind };
  const e2eDatabase = `${database}_e2e${kind === 'clerk-sync+worker' ? '' : '_worker_only'}`;
  await admin(`create database ${e2eDatabase}`);
  const url = withDatabase(values.url!, e2eDatabase);
  const { child, port } = await startReceiver(kind, url);
  try {
    await load(port, '/webhooks/clerk', prepare(Math.min(2000, EVENTS), 'e2ewarm'), 64);
    const events = prepare(EVENTS, 'e2e');
    const started = performance.now();
    const r = await load(port, '/webhooks/clerk', events, 64);
    await waitApplied(url, r.ok);
    endToEnd.clerkSync = r.ok.length / ((performance.now() - started) / 1000);
    endToEnd.batches = await countBatches(url, r.ok);
    endToEnd.pacedRate = Math.round(endToEnd.clerkSync / 2);
    const paced = prepare(Math.min(EVENTS, endToEnd.pacedRate * 10), 'e2epaced');
    const p = await load(port, '/webhooks/clerk', paced, 64, endToEnd.pacedRate);
    await waitApplied(url, p.ok);
    endToEnd.applyP99 = await applyLatencyP99(url, p.ok);
    return endToEnd;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
    await admin(`drop database if exists ${e2eDatabase} with (force)`);
  }
}

const results: Array<{ kind: string; concurrency: number; rate: number; p50: number; p99: number; lost: number; failed: number }> = [];
interface EndToEnd { kind: string; clerkSync?: number; batches?: number; pacedRate?: number; applyP99?: number }
const endToEnd: EndToEnd[] = [];
let baseline64: number | undefined;
const database = `clerk_sync_bench_${randomBytes(4).toString('hex')}`;
await admin(`create database ${database}`);
const databaseUrl = withDatabase(values.url!, database);
try {
  for (const concurrency of LEVELS) {
    for (const kind of PHASES.has('intake') ? ['ceiling', 'baseline', 'clerk-sync'] : concurrency === 64 ? ['baseline'] : []) {
      const { child, port } = await startReceiver(kind, databaseUrl);
      try {
        const path = kind === 'baseline' ? '/api/webhooks/clerk' : '/webhooks/clerk';
        await load(port, path, prepare(Math.min(2000, EVENTS), `warm${kind}${concurrency}`), concurrency);
        const events = prepare(EVENTS, `${kind}${concurrency}`);
        const r = await load(port, path, events, concurrency);
        const stored = kind === 'ceiling' ? r.ok.length : await countStored(databaseUrl, kind, r.ok);
        results.push({ kind, concurrency, rate: r.rate, p50: r.p50, p99: r.p99, lost: r.ok.length - stored, failed: r.failed });
        if (kind === 'baseline' && concurrency === 64) baseline64 = r.rate;
      } finally {
        child.kill('SIGTERM');
      }
    }
  }
  if (PHASES.has('e2e')) for (const kind of ['clerk-sync+worker', 'clerk-sync+worker-only'] as const) endToEnd.push(await endToEndRun(kind));
} finally {
  await admin(`drop database if exists ${database} with (force)`);
}

console.log(`\nIntake benchmark: ${EVENTS} events per run, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('receiver     conns   events/s   p50 ms   p99 ms   non-2xx   lost   ratio');
for (const r of results) {
  const base = results.find((b) => b.kind === 'baseline' && b.concurrency === r.concurrency)!;
  console.log(
    `${r.kind.padEnd(12)} ${String(r.concurrency).padStart(5)} ${r.rate.toFixed(0).padStart(10)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${String(r.failed).padStart(9)} ${String(r.lost).padStart(6)} ${(r.rate / base.rate).toFixed(2).padStart(6)}x`,
  );
}
if (endToEnd.length > 0 && baseline64) {
  console.log(`\nEnd to end (HTTP to applied rows, worker running, 64 conns; baseline ${baseline64.toFixed(0)} events/s):`);
  for (const e of endToEnd) {
    const label = e.kind === 'clerk-sync+worker' ? 'clerk-sync (apply at intake)' : 'clerk-sync (worker only)';
    console.log(
      `${label}: ${e.clerkSync!.toFixed(0)} events/s (${(e.clerkSync! / baseline64).toFixed(2)}x), ` +
        `${e.batches} apply transactions (${(EVENTS / e.batches!).toFixed(0)} events each on average); ` +
        `p99 from 2xx to applied at ${e.pacedRate} events/s: ${e.applyP99?.toFixed(0)} ms`,
    );
  }
}
if (results.some((r) => r.lost !== 0)) {
  console.error('LOST acknowledged events');
  process.exit(1);
}
