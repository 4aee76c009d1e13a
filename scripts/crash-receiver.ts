/**
 * Crash and outage drills of the receiver, run by CI:
 *
 *   node --import tsx scripts/crash-receiver.ts [--kills 20] [--dist] [--only kill|outage]
 *
 * 1. kill -9: `clerk-sync serve` on a database this script creates (CRASH_DATABASE_URL, default
 *    postgres://postgres@127.0.0.1:5432/postgres; dropped afterwards) is killed at random moments
 *    while concurrent senders deliver signed events, then restarted, --kills times. Deliveries that
 *    got no 2xx are redelivered, as Svix does. Afterwards every id that got a 2xx is in the inbox,
 *    and every id ever sent is stored exactly once, with the body that was sent.
 * 2. Database outage: a throwaway cluster (initdb into /tmp, its own port) is restarted, then
 *    stopped (immediate, as in a crash) for 10 s while deliveries continue. Expected: only 503
 *    during the outage, /readyz 503, nothing acknowledged that was not stored, and recovery
 *    without restarting the receiver.
 *
 * Prints PASS or FAIL per drill and exits 1 on any failure. The file is long because it is the
 * whole drill in one place: processes, senders, checks.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signedHeaders } from '../src/verify/index.js';
import { withDatabase } from '../test/support/postgres-admin.js';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '20' }, dist: { type: 'boolean' }, only: { type: 'string' } } });
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const ADMIN_URL = process.env.CRASH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 23)}] ${line}`);


async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Serve {
  child: ChildProcess;
  listening: Promise<void>;
  exited: Promise<number | string>;
  output(): string;
}

function spawnServe(port: number, databaseUrl: string): Serve {
  const entry = values.dist ? ['dist/cli/index.js'] : ['--import', 'tsx', 'src/cli/index.ts'];
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CLERK_') && k !== 'DATABASE_URL' && k !== 'REDIS_URL') env[k] = v;
  const child = spawn(process.execPath, [...entry, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...env, DATABASE_URL: databaseUrl, CLERK_WEBHOOK_SIGNING_SECRET: SECRET, CLERK_SYNC_LOG_LEVEL: 'warn', CLERK_SYNC_RATE_LIMIT_FAILED: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('clerk-sync listening on')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    void exited.then((code) => reject(new Error(`serve exited (${code}) before listening`)));
  });
  listening.catch(() => {});
  return { child, listening, exited, output: () => output };
}

/** Every delivery ever made up, whether it was acknowledged, and the redelivery queue. */
class Ledger {
  readonly bodies = new Map<string, string>();
  readonly acked = new Set<string>();
  readonly retry: string[] = [];
  readonly statuses = new Map<string, number>();
  /** Answers with their send and answer times, for the outage checks. */
  readonly answers: Array<{ id: string; sentAt: number; at: number; status: number | 'error' }> = [];
  #next = 0;
  constructor(readonly prefix: string) {}

  fresh(): string {
    const id = `${this.prefix}_${this.#next++}`;
    const types = ['user.created', 'user.updated', 'organization.created', 'organizationMembership.created', 'session.created'];
    const type = types[this.#next % types.length]!;
    this.bodies.set(id, JSON.stringify({ type, object: 'event', timestamp: Date.now(), instance_id: 'ins_crash', data: { id: `obj_${this.#next}`, object: type.split('.')[0], updated_at: Date.now() } }));
    return id;
  }

  count(status: number | 'error'): void {
    this.statuses.set(String(status), (this.statuses.get(String(status)) ?? 0) + 1);
  }

  pending(): number {
    return this.bodies.size - this.acked.size;
  }
}

function deliver(port: number, agent: Agent, id: string, body: string): Promise<{ status: number; duplicate: boolean } | 'error'> {
  return new Promise((resolve) => {
    // Svix signs every attempt anew: same id and body, a fresh timestamp.
    const headers = { ...signedHeaders({ id, timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET }), 'content-length': String(Buffer.byteLength(body)) };
    const req = request({ host: '127.0.0.1', port, path: '/webhooks/clerk', method: 'POST', headers, agent }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, duplicate: text.includes('"duplicate":true') }));
      res.on('error', () => resolve('error'));
    });
    req.setTimeout(15_000, () => req.destroy());
    req.on('error', () => resolve('error'));
    req.end(body);
  });
}

/** Senders: redeliveries first (as Svix would), else a new event; now and then an acknowledged id again. */
function startSenders(n: number, port: number, ledger: Ledger, options: { newEvents: () => boolean; problems: string[] }): { stop(): Promise<void> } {
  const agent = new Agent({ keepAlive: true, maxSockets: n });
  let stopped = false;
  const loops = Array.from({ length: n }, async () => {
    while (!stopped) {
      let id = ledger.retry.shift();
      let again = false;
      if (id === undefined && ledger.acked.size > 0 && Math.random() < 0.03) {
        const acked = [...ledger.acked];
        id = acked[between(0, acked.length)]!;
        again = true;
      }
      if (id === undefined) {
        if (!options.newEvents()) {
          await sleep(20);
          continue;
        }
        id = ledger.fresh();
      }
      const sentAt = Date.now();
      const answer = await deliver(port, agent, id, ledger.bodies.get(id)!);
      const status = answer === 'error' ? 'error' : answer.status;
      ledger.answers.push({ id, sentAt, at: Date.now(), status });
      ledger.count(status);
      if (answer !== 'error' && answer.status >= 200 && answer.status < 300) {
        if (again && !answer.duplicate) options.problems.push(`redelivered acknowledged id ${id} was not answered as a duplicate`);
        ledger.acked.add(id);
      } else {
        if (!again) ledger.retry.push(id);
        if (answer !== 'error' && answer.status !== 503) options.problems.push(`${id} answered ${answer.status}`);
        await sleep(answer === 'error' ? 50 : 20);
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

async function drain(ledger: Ledger, port: number, problems: string[], timeoutMs = 60_000): Promise<void> {
  const senders = startSenders(8, port, ledger, { newEvents: () => false, problems });
  const deadline = Date.now() + timeoutMs;
  while (ledger.pending() > 0 && Date.now() < deadline) await sleep(100);
  await senders.stop();
  if (ledger.pending() > 0) problems.push(`${ledger.pending()} deliveries still unacknowledged after ${timeoutMs / 1000} s of redelivery`);
}

/** Every acknowledged id stored, every sent id stored exactly once with the body that was sent. */
async function verifyInbox(databaseUrl: string, ledger: Ledger, ackedBefore: ReadonlySet<string>, problems: string[]): Promise<number> {
  const rows = (await sql(databaseUrl, `select id from clerk.webhook_events where id like $1`, [`${ledger.prefix}\\_%`])).rows as Array<{ id: string }>;
  const stored = new Set(rows.map((r) => r.id));
  if (stored.size !== rows.length) problems.push('an id is stored twice');
  const lostAcked = [...ackedBefore].filter((id) => !stored.has(id));
  if (lostAcked.length > 0) problems.push(`acknowledged with a 2xx but not stored: ${lostAcked.slice(0, 10).join(', ')} (${lostAcked.length})`);
  const missing = [...ledger.bodies.keys()].filter((id) => !stored.has(id));
  if (missing.length > 0) problems.push(`sent but never stored: ${missing.slice(0, 10).join(', ')} (${missing.length})`);
  const extra = [...stored].filter((id) => !ledger.bodies.has(id));
  if (extra.length > 0) problems.push(`stored but never sent: ${extra.slice(0, 10).join(', ')}`);
  // jsonb equality: the stored payload is the body that was sent (key order and whitespace aside).
  const sent = [...ledger.bodies].filter(([id]) => stored.has(id));
  const differing = (await sql(
    databaseUrl,
    `select w.id from clerk.webhook_events w join unnest($1::text[], $2::text[]) as u(id, body) on w.id = u.id where w.payload <> u.body::jsonb`,
    [sent.map(([id]) => id), sent.map(([, body]) => body)],
  )).rows as Array<{ id: string }>;
  for (const { id } of differing) problems.push(`${id} stored with another body`);
  return rows.length;
}

async function killDrill(): Promise<string[]> {
  const problems: string[] = [];
  const kills = Number(values.kills);
  const name = `clerk_sync_crash_${randomBytes(5).toString('hex')}`;
  await sql(ADMIN_URL, `create database ${name}`);
  const databaseUrl = withDatabase(ADMIN_URL, name);
  const port = await freePort();
  const ledger = new Ledger(`crash${randomBytes(3).toString('hex')}`);
  const senders = startSenders(16, port, ledger, { newEvents: () => true, problems });
  let last: Serve | undefined;
  try {
    for (let i = 1; i <= kills; i++) {
      const serve = spawnServe(port, databaseUrl);
      // Every fifth kill lands during start-up (migrations, worker start) rather than under load.
      const duringStartup = i % 5 === 0;
      if (duringStartup) await sleep(between(50, 1500));
      else {
        await serve.listening;
        await sleep(between(150, 1500));
      }
      const exitedEarly = serve.child.exitCode !== null;
      serve.child.kill('SIGKILL');
      const code = await serve.exited;
      if (exitedEarly) problems.push(`serve exited on its own (${code}): ${serve.output().slice(-2000)}`);
      log(`kill ${i}/${kills}${duringStartup ? ' (during start-up)' : ''}: ${ledger.acked.size} acknowledged, ${ledger.retry.length} awaiting redelivery`);
    }
    await senders.stop();
    const ackedBefore = new Set(ledger.acked);
    last = spawnServe(port, databaseUrl);
    await last.listening;
    await drain(ledger, port, problems);
    const stored = await verifyInbox(databaseUrl, ledger, ackedBefore, problems);
    last.child.kill('SIGTERM');
    const code = await last.exited;
    if (code !== 0) problems.push(`serve did not stop cleanly on SIGTERM (${code})`);
    log(`kill drill: ${kills} kills, ${ledger.bodies.size} ids sent, ${ackedBefore.size} acknowledged during the kills, ${stored} stored; answers ${JSON.stringify(Object.fromEntries(ledger.statuses))}`);
  } finally {
    await senders.stop();
    if (last && last.child.exitCode === null) last.child.kill('SIGKILL');
    await sql(ADMIN_URL, `drop database if exists ${name} with (force)`);
  }
  return problems;
}

/** A Postgres cluster of its own in /tmp, started and stopped through its data directory only. */
class ThrowawayCluster {
  readonly dir: string;
  readonly port: number;
  constructor(port: number) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), 'clerk-sync-pgdata-'));
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(this.dir, uid, gid);
  }
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  #pg(args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  init(): void {
    this.#pg([`${PG_BIN}/initdb`, '-D', this.dir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }
  start(): void {
    this.#pg([`${PG_BIN}/pg_ctl`, '-D', this.dir, '-o', `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1`, '-l', join(this.dir, 'server.log'), '-w', 'start']);
  }
  stop(mode: 'fast' | 'immediate'): void {
    this.#pg([`${PG_BIN}/pg_ctl`, '-D', this.dir, '-m', mode, '-w', 'stop']);
  }
  restart(): void {
    this.#pg([`${PG_BIN}/pg_ctl`, '-D', this.dir, '-o', `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1`, '-l', join(this.dir, 'server.log'), '-m', 'fast', '-w', 'restart']);
  }
  running(): boolean {
    return existsSync(join(this.dir, 'postmaster.pid'));
  }
  destroy(): void {
    if (this.running()) {
      try {
        this.stop('immediate');
      } catch {
        // Already gone; the directory is removed either way.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function readiness(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(10_000) })).status;
  } catch {
    return 0;
  }
}

async function outageDrill(): Promise<string[]> {
  const problems: string[] = [];
  const cluster = new ThrowawayCluster(await freePort());
  const port = await freePort();
  let serve: Serve | undefined;
  let senders: { stop(): Promise<void> } | undefined;
  try {
    cluster.init();
    cluster.start();
    serve = spawnServe(port, cluster.url);
    await serve.listening;
    const ledger = new Ledger(`outage${randomBytes(3).toString('hex')}`);
    senders = startSenders(8, port, ledger, { newEvents: () => true, problems });
    await sleep(3000);

    log('outage drill: restarting the database');
    const restartAt = Date.now();
    cluster.restart();
    log(`outage drill: database back after ${Date.now() - restartAt} ms`);
    await sleep(4000);

    cluster.stop('immediate');
    const downAt = Date.now();
    log('outage drill: database stopped (immediate) for 10 s');
    await sleep(1000);
    const readyDuring = await readiness(port);
    if (readyDuring !== 503) problems.push(`/readyz answered ${readyDuring} during the outage`);
    await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
    const upAt = Date.now();
    cluster.start();
    log(`outage drill: database started again after ${Math.round((upAt - downAt) / 100) / 10} s`);

    let recoveredAt: number | undefined;
    const recoveryDeadline = Date.now() + 30_000;
    while (Date.now() < recoveryDeadline) {
      recoveredAt = ledger.answers.find((a) => a.sentAt >= upAt && typeof a.status === 'number' && a.status < 300)?.at;
      if (recoveredAt) break;
      await sleep(100);
    }
    if (!recoveredAt) problems.push('no delivery was acknowledged within 30 s of the database coming back');
    await sleep(3000);
    await senders.stop();
    senders = undefined;

    const during = ledger.answers.filter((a) => a.sentAt >= downAt + 200 && a.at <= upAt);
    const duringStatuses = new Map<string, number>();
    for (const a of during) duringStatuses.set(String(a.status), (duringStatuses.get(String(a.status)) ?? 0) + 1);
    const acknowledgedDuring = during.filter((a) => typeof a.status === 'number' && a.status < 300);
    if (acknowledgedDuring.length > 0) problems.push(`${acknowledgedDuring.length} deliveries got a 2xx while the database was down`);
    if ((duringStatuses.get('503') ?? 0) === 0) problems.push('no 503 during the outage');
    const other = [...duringStatuses.keys()].filter((s) => s !== '503');
    if (other.length > 0) problems.push(`answers other than 503 during the outage: ${JSON.stringify(Object.fromEntries(duringStatuses))}`);
    const readyAfter = await readiness(port);
    if (readyAfter !== 200) problems.push(`/readyz answered ${readyAfter} after recovery`);
    if (serve.child.exitCode !== null) problems.push(`serve exited during the drill (${serve.child.exitCode}): ${serve.output().slice(-2000)}`);

    const ackedBefore = new Set(ledger.acked);
    await drain(ledger, port, problems);
    const stored = await verifyInbox(cluster.url, ledger, ackedBefore, problems);
    log(
      `outage drill: ${ledger.bodies.size} ids sent, ${stored} stored; during the outage ${JSON.stringify(Object.fromEntries(duringStatuses))}; ` +
        `first acknowledgement ${recoveredAt ? recoveredAt - upAt : '—'} ms after the database was back; all answers ${JSON.stringify(Object.fromEntries(ledger.statuses))}`,
    );
    serve.child.kill('SIGTERM');
    const code = await serve.exited;
    if (code !== 0) problems.push(`serve did not stop cleanly on SIGTERM (${code})`);
  } finally {
    await senders?.stop();
    if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
    cluster.destroy();
  }
  return problems;
}

async function main(): Promise<number> {
  const drills: Array<[string, () => Promise<string[]>]> = [];
  if (!values.only || values.only === 'kill') drills.push(['kill -9 drill', killDrill]);
  if (!values.only || values.only === 'outage') drills.push(['database outage drill', outageDrill]);
  let failed = false;
  for (const [name, drill] of drills) {
    const started = Date.now();
    let problems: string[];
    try {
      problems = await drill();
    } catch (error) {
      problems = [`crashed: ${(error as Error)?.stack ?? String(error)}`];
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    if (problems.length === 0) console.log(`PASS ${name} (${seconds} s)`);
    else {
      failed = true;
      console.log(`FAIL ${name} (${seconds} s):\n  ${[...new Set(problems)].slice(0, 30).join('\n  ')}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
