/**
 * Crash proofs of the worker and the outbox (issue #5), run by CI, bounded to about two minutes:
 *
 * 1. kill -9 of apply workers in the middle of batches, many times, under a stream of signed
 *    deliveries: afterwards every acknowledged event is applied exactly once in effect (one row
 *    of the in-transaction apply log each, projections converged), and every side effect reached
 *    the fake Resend / Slack exactly once per reason. The dispatcher runs in its own process here
 *    and is not killed: this phase is about re-applied batches never duplicating effects.
 * 2. kill -9 of the dispatcher while sends are in flight: nothing is lost; Resend still creates
 *    exactly one email per reason (the row's Idempotency-Key); Slack incoming webhooks take no
 *    idempotency key, so a Slack row whose send a kill cut off is not posted again but ends dead
 *    as in doubt: no sign-up is posted twice, and every one is posted or in doubt
 *    (docs/side-effects.md).
 * 3. Postgres restarted under load, on a throwaway cluster this script creates (initdb as the
 *    `postgres` user, its own port and socket dir, stopped by its own pid): the receiver of one
 *    `clerk-sync serve` process answers 503 while the database is down, acknowledges nothing it
 *    did not store, and the same process (receiver and worker) carries on once it is back.
 *
 *   node --import tsx scripts/crash-worker.ts [--seconds 30] [--rate 150]
 *
 * Needs the local Postgres at postgres://postgres@127.0.0.1:5432/postgres (or CRASH_DATABASE_URL)
 * for phases 1-2 and /usr/lib/postgresql/15/bin (or PG_BIN) for phase 3. Prints PASS or FAIL per
 * check and exits 1 on any failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createClerkSync, type ClerkSync } from '../src/service/clerk-sync.js';
import { createStandaloneServer } from '../src/server/standalone.js';
import { signedHeaders } from '../src/verify/index.js';
import { startFakeResend, type FakeResend } from '../test/support/fake-resend.js';
import { startFakeSlack, type FakeSlack } from '../test/support/fake-slack.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    rate: { type: 'string', default: '150' },
    url: { type: 'string', default: process.env.CRASH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'pg-bin': { type: 'string', default: process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin' },
    only: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const CHILD = new URL('./crash-worker-child.ts', import.meta.url).pathname;
const CLI = new URL('../src/cli/index.ts', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const T0 = Date.now();

const results: Array<{ name: string; ok: boolean; detail: string }> = [];
function check(name: string, ok: boolean, detail = ''): void {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
}
const log = (line: string) => console.log(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));


const sql = queryOnce;

async function waitUntil(what: string, ms: number, test: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test().catch(() => false)) return true;
    await sleep(200);
  }
  log(`gave up waiting for ${what}`);
  return false;
}

// ---------------------------------------------------------------------------------------------
// The stream: signed Clerk deliveries with the duplicates real traffic has.

interface Expectation {
  acked: Set<string>;
  /** user id → highest version acknowledged */
  userVersion: Map<string, number>;
  welcome: Set<string>;
  admin: Set<string>;
  relay: Set<string>;
}

const newExpectation = (): Expectation => ({ acked: new Set(), userVersion: new Map(), welcome: new Set(), admin: new Set(), relay: new Set() });

class Stream {
  readonly sent = new Map<string, { body: string; kind: string; about: string; version?: number }>();
  private users = 0;
  constructor(readonly prefix: string, readonly expect: Expectation) {}

  next(onlySignups = false): { id: string; body: string; kind: string; about: string; version?: number } {
    const r = Math.random();
    const T = 1_750_000_000_000;
    const make = (type: string, data: Record<string, unknown>) => JSON.stringify({ type, object: 'event', timestamp: Date.now(), instance_id: 'ins_crash', data });
    const userData = (u: string, v: number) => ({
      id: u, object: 'user', first_name: 'Crash', last_name: `v${v}`, primary_email_address_id: `idn_${u}`,
      email_addresses: [{ id: `idn_${u}`, object: 'email_address', email_address: `${u}@crash.test` }], created_at: T, updated_at: T + v,
    });
    if (onlySignups || this.users < 5 || r < 0.3) {
      const u = `${this.prefix}_user_${this.users++}`;
      return { id: `msg_${this.prefix}_${this.sent.size}`, body: make('user.created', userData(u, 0)), kind: 'signup', about: u, version: 0 };
    }
    const u = `${this.prefix}_user_${Math.floor(Math.random() * this.users)}`;
    if (r < 0.62) {
      const v = 1 + Math.floor(Math.random() * 1000);
      return { id: `msg_${this.prefix}_${this.sent.size}`, body: make('user.updated', userData(u, v)), kind: 'update', about: u, version: v };
    }
    if (r < 0.7) {
      // Clerk sent the same sign-up again under a new svix id.
      return { id: `msg_${this.prefix}_${this.sent.size}`, body: make('user.created', userData(u, 0)), kind: 'signup', about: u, version: 0 };
    }
    if (r < 0.8) {
      const m = `orgmem_${u}`;
      const data = { id: m, object: 'organization_membership', role: Math.random() < 0.5 ? 'org:admin' : 'org:member', organization: { id: `org_${this.prefix}`, name: 'Crash Co' }, public_user_data: { user_id: u, identifier: `${u}@crash.test`, first_name: 'Crash' }, created_at: T, updated_at: T };
      return { id: `msg_${this.prefix}_${this.sent.size}`, body: make('organizationMembership.created', data), kind: data.role === 'org:admin' ? 'admin' : 'member', about: m };
    }
    if (r < 0.88) {
      const e = `ema_${this.prefix}_${this.sent.size}`;
      const data = { id: e, object: 'email', to_email_address: `${u}@crash.test`, subject: 'Your code', body: '<p>123456</p>', body_plain: '123456', slug: 'verification_code', delivered_by_clerk: false, status: 'queued', user_id: u };
      return { id: `msg_${this.prefix}_${this.sent.size}`, body: make('email.created', data), kind: 'relay', about: e };
    }
    // Svix redelivers one it already delivered.
    const old = [...this.sent.entries()][Math.floor(Math.random() * this.sent.size)]!;
    return { id: old[0], ...old[1] };
  }

  acknowledge(d: { id: string; kind: string; about: string; version?: number }): void {
    const x = this.expect;
    x.acked.add(d.id);
    if (d.kind === 'signup') {
      x.welcome.add(d.about);
      if (!x.userVersion.has(d.about)) x.userVersion.set(d.about, 0);
    }
    if (d.kind === 'update') x.userVersion.set(d.about, Math.max(x.userVersion.get(d.about) ?? 0, d.version!));
    if (d.kind === 'admin') x.admin.add(d.about);
    if (d.kind === 'relay') x.relay.add(d.about);
  }
}

interface Outcome {
  status: number;
  startedAt: number;
  endedAt: number;
}

/** Posts `rate` deliveries a second until `running()` says stop; records every answer. */
async function drive(url: () => string, stream: Stream, rate: number, running: () => boolean, onlySignups = false): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  const interval = 1000 / rate;
  let next = Date.now();
  while (running()) {
    const d = stream.next(onlySignups);
    stream.sent.set(d.id, { body: d.body, kind: d.kind, about: d.about, version: d.version });
    const headers = signedHeaders({ id: d.id, timestamp: Math.floor(Date.now() / 1000), body: d.body, secret: SECRET });
    const startedAt = Date.now();
    const p = fetch(url(), { method: 'POST', headers, body: d.body, signal: AbortSignal.timeout(10_000) })
      .then(async (res) => {
        await res.arrayBuffer();
        outcomes.push({ status: res.status, startedAt, endedAt: Date.now() });
        if (res.status >= 200 && res.status < 300) stream.acknowledge(d);
      })
      .catch(() => void outcomes.push({ status: 0, startedAt, endedAt: Date.now() }))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    next += interval;
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
    else if (inFlight.size > 64) await Promise.race(inFlight);
  }
  await Promise.allSettled([...inFlight]);
  return outcomes;
}

// ---------------------------------------------------------------------------------------------
// Worker processes.

class Child {
  proc!: ChildProcess;
  out = '';
  constructor(readonly role: string, readonly env: NodeJS.ProcessEnv, readonly args: string[] = [CHILD, role]) {}

  start(): Promise<void> {
    this.out = '';
    this.proc = spawn(process.execPath, ['--import', 'tsx', ...this.args], { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = this.proc;
    proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.role} did not start:\n${this.out}`)), 60_000);
      const onData = () => {
        if (/\bready\b|listening on/.test(this.out)) {
          clearTimeout(timer);
          proc.stdout!.off('data', onData);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!/\bready\b|listening on/.test(this.out)) reject(new Error(`${this.role} exited (${code ?? signal}) before it was ready:\n${this.out}`));
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  kill9(): Promise<void> {
    const proc = this.proc;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGKILL');
    return exited;
  }

  async term(): Promise<number | null> {
    const proc = this.proc;
    if (proc.exitCode !== null) return proc.exitCode;
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    return exited;
  }
}

async function startReceiver(databaseUrl: string): Promise<{ sync: ClerkSync; server: Server; url: string; close(): Promise<void> }> {
  const sync = createClerkSync({ databaseUrl, secret: SECRET, logger: false, poolSize: 8 });
  await sync.migrate();
  const server = createStandaloneServer(sync);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/clerk`;
  return {
    sync,
    server,
    url,
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await sync.close();
    },
  };
}

function workerEnv(databaseUrl: string, name: string, resend: FakeResend, slack: FakeSlack): NodeJS.ProcessEnv {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', name);
  return {
    ...process.env,
    DATABASE_URL: url.toString(),
    CLERK_WEBHOOK_SIGNING_SECRET: SECRET,
    RESEND_API_KEY: resend.apiKey,
    CLERK_SYNC_EMAIL_FROM: 'Crash <crash@crash.test>',
    RESEND_BASE_URL: resend.url,
    SLACK_WEBHOOK_URL: slack.url,
  };
}

// ---------------------------------------------------------------------------------------------

async function verifyApplied(name: string, databaseUrl: string, x: Expectation, withApplyLog = true): Promise<void> {
  const rows = await sql<{ id: string; status: string; attempts: number }>(databaseUrl, 'select id, status, attempts from clerk.webhook_events');
  const byId = new Map(rows.map((r) => [r.id, r]));
  const lost = [...x.acked].filter((id) => !byId.has(id));
  check(`${name}: every acknowledged delivery is stored`, lost.length === 0, `${x.acked.size} acknowledged, ${lost.length} missing`);
  const open = rows.filter((r) => !['applied', 'stale', 'ignored'].includes(r.status));
  check(`${name}: every stored event is applied (applied/stale/ignored), none pending, failed or dead`, open.length === 0, open.length ? `${open.length} not applied, e.g. ${JSON.stringify(open.slice(0, 3))}` : `${rows.length} events, max attempts ${Math.max(...rows.map((r) => r.attempts))}`);
  if (withApplyLog) {
    const logged = await sql<{ event_id: string; n: number }>(databaseUrl, 'select event_id, count(*)::int as n from public.crash_apply_log group by event_id');
    const seen = new Set(logged.map((l) => l.event_id));
    const twice = logged.filter((l) => l.n > 1);
    const never = rows.filter((r) => !seen.has(r.id));
    check(`${name}: each event applied exactly once in effect (one committed apply-log row per event)`, twice.length === 0 && never.length === 0, `${logged.length} logged, ${twice.length} twice, ${never.length} never`);
  }
  // The newest version stored wins; that includes deliveries stored but never acknowledged (the
  // answer was lost when the database or a process went down), which Svix would redeliver anyway.
  const users = new Map((await sql<{ id: string; last_name: string }>(databaseUrl, 'select id, last_name from clerk.users')).map((u) => [u.id, u.last_name]));
  const newest = await sql<{ id: string; last_name: string }>(
    databaseUrl,
    `select distinct on (payload->'data'->>'id') payload->'data'->>'id' as id, payload->'data'->>'last_name' as last_name
       from clerk.webhook_events where type in ('user.created', 'user.updated')
      order by payload->'data'->>'id', (payload->'data'->>'updated_at')::bigint desc`,
  );
  const wrong = newest.filter((n) => users.get(n.id) !== n.last_name);
  const missingUsers = [...x.userVersion.keys()].filter((id) => !users.has(id));
  const belowAcked = [...x.userVersion].filter(([id, v]) => Number(users.get(id)?.slice(1) ?? -1) < v);
  check(
    `${name}: projections converged on the newest stored version (never older than the newest acknowledged)`,
    wrong.length === 0 && missingUsers.length === 0 && belowAcked.length === 0,
    `${users.size} users, ${wrong.length} wrong, ${missingUsers.length} missing, ${belowAcked.length} older than acknowledged`,
  );
}

interface Received {
  emails: FakeResend['emails'];
  requests: FakeResend['requests'];
  messages: FakeSlack['messages'];
}

/** inDoubt: users whose Slack row is dead as in doubt (its send was cut off): posted once or not at all. */
function verifyEffects(name: string, x: Expectation, received: Received, inDoubt: ReadonlySet<string>): void {
  const resend = received;
  const slack = received;
  const expected = new Set([...[...x.welcome].map((u) => `clerk-sync:email.welcome:${u}`), ...[...x.admin].map((m) => `clerk-sync:email.admin_welcome:${m}`), ...[...x.relay].map((e) => `clerk-sync:email.relay:${e}`)]);
  const created = new Map<string, number>();
  for (const e of resend.emails) created.set(e.idempotencyKey ?? '?', (created.get(e.idempotencyKey ?? '?') ?? 0) + 1);
  const missing = [...expected].filter((k) => !created.has(k));
  const extra = [...created.keys()].filter((k) => !expected.has(k));
  const twice = [...created.values()].filter((n) => n > 1).length;
  check(
    `${name}: Resend created exactly one email per reason`,
    missing.length === 0 && extra.length === 0 && twice === 0,
    `${expected.size} reasons (${x.welcome.size} welcome, ${x.admin.size} admin, ${x.relay.size} relay), ${resend.emails.length} created from ${resend.requests.length} requests, ${missing.length} missing, ${extra.length} unexpected, ${twice} twice`,
  );
  const perUser = new Map<string, number>();
  for (const m of slack.messages) {
    const u = /\(([^)@]+)@crash\.test\)/.exec(m.body.text ?? '')?.[1] ?? '?';
    perUser.set(u, (perUser.get(u) ?? 0) + 1);
  }
  const slackMissing = [...x.welcome].filter((u) => !perUser.has(u) && !inDoubt.has(u));
  const slackExtra = [...perUser.keys()].filter((u) => !x.welcome.has(u));
  const repeats = [...perUser.values()].reduce((n, c) => n + (c - 1), 0);
  const postedInDoubt = [...inDoubt].filter((u) => perUser.has(u)).length;
  check(
    `${name}: Slack got no sign-up twice, and every one once unless its row is dead as in doubt`,
    slackMissing.length === 0 && slackExtra.length === 0 && repeats === 0,
    `${x.welcome.size} sign-ups, ${slack.messages.length} messages, ${slackMissing.length} missing, ${repeats} repeated, ${inDoubt.size} in doubt (${postedInDoubt} of them had been posted)`,
  );
}

async function slackInDoubt(databaseUrl: string): Promise<Set<string>> {
  const rows = await sql<{ key: string }>(databaseUrl, `select key from clerk.outbox where kind = 'slack.signup' and status = 'dead' and last_error like 'in doubt:%'`);
  return new Set(rows.map((r) => r.key));
}

async function settle(databaseUrl: string, ms: number): Promise<boolean> {
  return waitUntil('events applied and side effects sent', ms, async () => {
    const [r] = await sql<{ events: number; effects: number }>(
      databaseUrl,
      `select (select count(*)::int from clerk.webhook_events where status not in ('applied', 'stale', 'ignored')) as events,
              (select count(*)::int from clerk.outbox where status <> 'sent' and not (status = 'dead' and last_error like 'in doubt:%')) as effects`,
    );
    return r!.events === 0 && r!.effects === 0;
  });
}

async function phaseKills(adminUrl: string): Promise<void> {
  const name = `clerk_sync_crash_${randomBytes(4).toString('hex')}`;
  await sql(adminUrl, `create database ${name}`);
  const databaseUrl = withDatabase(adminUrl, name);
  const resend = await startFakeResend();
  const slack = await startFakeSlack();
  const children: Child[] = [];
  try {
    const receiver = await startReceiver(databaseUrl);
    await sql(databaseUrl, 'create table public.crash_apply_log (event_id text not null, pid int not null, at timestamptz not null default now())');

    // Phase 1: apply workers killed mid-batch; the dispatcher runs on its own.
    log('phase 1: stream of deliveries, two apply workers killed with SIGKILL again and again');
    const appliers = [0, 1].map((i) => new Child('apply', workerEnv(databaseUrl, `crash_apply_${i}`, resend, slack)));
    const dispatcher = new Child('dispatch', workerEnv(databaseUrl, 'crash_dispatch', resend, slack));
    children.push(...appliers, dispatcher);
    await Promise.all([...appliers.map((c) => c.start()), dispatcher.start()]);
    const x1 = newExpectation();
    const s1 = new Stream('p1', x1);
    let streaming = true;
    const driving = drive(() => receiver.url, s1, RATE, () => streaming);
    let kills = 0;
    let midTransaction = 0;
    const watcher = new pg.Client({ connectionString: databaseUrl });
    await watcher.connect();
    // Inside the apply transaction: its connection is `idle in transaction` between statements
    // (the claim is one autocommit statement and never is), or running one of its statements.
    const insideApply = async (appName: string) =>
      (
        await watcher.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where application_name = $1 and (state = 'idle in transaction' or (state = 'active' and query !~* '^\\s*update\\s+"clerk"\\.webhook_events e'))`,
          [appName],
        )
      ).rows[0]!.n > 0;
    const killUntil = Date.now() + SECONDS * 1000;
    while (Date.now() < killUntil) {
      const i = kills % 2;
      const victim = appliers[i]!;
      await waitUntil('worker ready', 60_000, async () => /\bready\b/.test(victim.out));
      let inside = false;
      for (const waitUntilMs = Date.now() + 3000; !inside && Date.now() < waitUntilMs; ) {
        inside = await insideApply(`crash_apply_${i}`);
        if (!inside) await sleep(5);
      }
      await victim.kill9();
      kills++;
      if (inside) midTransaction++;
      void victim.start().catch((e: Error) => log(`restart failed: ${e.message}`));
    }
    await watcher.end();
    streaming = false;
    const outcomes1 = await driving;
    log(`phase 1: ${outcomes1.length} deliveries (${outcomes1.filter((o) => o.status === 200).length} answered 200), ${kills} kills, ${midTransaction} with a transaction open; settling`);
    check('phase 1: workers were killed inside their apply transaction', kills >= 5 && midTransaction >= kills * 0.8, `${midTransaction} of ${kills} kills seen inside an apply transaction`);
    await Promise.all(appliers.map((c) => waitUntil('worker restarted', 60_000, async () => /\bready\b/.test(c.out))));
    const settled1 = await settle(databaseUrl, 30_000);
    check('phase 1: everything settled after the kills', settled1);
    await sleep(300);
    await verifyApplied('phase 1', databaseUrl, x1);
    const inDoubt1 = await slackInDoubt(databaseUrl);
    check('phase 1: no Slack row in doubt (the dispatcher was not killed)', inDoubt1.size === 0, `${inDoubt1.size} in doubt`);
    verifyEffects('phase 1', x1, { emails: resend.emails, requests: resend.requests, messages: slack.messages }, inDoubt1);

    // Phase 2: the dispatcher killed while sends are in flight.
    log('phase 2: sign-ups, the dispatcher killed with SIGKILL while sends are in flight');
    resend.delayMs = 40;
    slack.delayMs = 40;
    const x2 = newExpectation();
    const s2 = new Stream('p2', x2);
    streaming = true;
    const driving2 = drive(() => receiver.url, s2, Math.max(20, RATE / 4), () => streaming, true);
    let dispatcherKills = 0;
    const until2 = Date.now() + Math.max(8, SECONDS / 3) * 1000;
    let killedSending = 0;
    while (Date.now() < until2) {
      await sleep(200);
      for (const waitUntilMs = Date.now() + 2000; resend.inFlight + slack.inFlight === 0 && Date.now() < waitUntilMs; ) await sleep(2);
      if (resend.inFlight + slack.inFlight > 0) killedSending++;
      await dispatcher.kill9();
      dispatcherKills++;
      await dispatcher.start();
    }
    streaming = false;
    await driving2;
    log(`phase 2: ${x2.acked.size} sign-ups acknowledged, ${dispatcherKills} dispatcher kills (${killedSending} with sends in flight); settling (rows of a killed send wait out a 2.5 s lease)`);
    const settled2 = await settle(databaseUrl, 30_000);
    check('phase 2: every side effect sent after the kills (Slack: or dead as in doubt)', settled2);
    // Only phase 2's reasons: the fakes' records filtered by the phase's id prefix.
    verifyEffects(
      'phase 2',
      x2,
      {
        emails: resend.emails.filter((e) => e.idempotencyKey?.includes(':p2_')),
        requests: resend.requests.filter((q) => q.idempotencyKey?.includes(':p2_')),
        messages: slack.messages.filter((m) => String(m.body?.text).includes('p2_user_')),
      },
      await slackInDoubt(databaseUrl),
    );
    await verifyApplied('phase 2 (phases 1+2 together)', databaseUrl, mergeExpectations(x1, x2));

    for (const c of children) {
      const code = await c.term();
      if (code !== 0) log(`${c.role} exited with ${code}: ${c.out.slice(-500)}`);
    }
    check('phases 1-2: workers exit 0 on SIGTERM', children.every((c) => c.proc.exitCode === 0), children.map((c) => `${c.role}:${c.proc.exitCode}`).join(' '));
    await receiver.close();
  } finally {
    for (const c of children) if (c.proc && c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await resend.close();
    await slack.close();
    await sql(adminUrl, `drop database if exists ${name} with (force)`).catch(() => {});
  }
}

function mergeExpectations(a: Expectation, b: Expectation): Expectation {
  return {
    acked: new Set([...a.acked, ...b.acked]),
    userVersion: new Map([...a.userVersion, ...b.userVersion]),
    welcome: new Set([...a.welcome, ...b.welcome]),
    admin: new Set([...a.admin, ...b.admin]),
    relay: new Set([...a.relay, ...b.relay]),
  };
}

// ---------------------------------------------------------------------------------------------
// Phase 3: a throwaway cluster, stopped and started under load.

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

class Cluster {
  readonly dir: string;
  constructor(readonly bin: string, readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'clerk-sync-crash-pg-'));
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(this.dir, uid, gid);
  }
  private asPostgres(args: string[]): string {
    return execFileSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
  init(): void {
    this.asPostgres([join(this.bin, 'initdb'), '-D', this.dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  }
  start(): void {
    this.asPostgres([join(this.bin, 'pg_ctl'), '-D', this.dir, '-o', `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on`, '-l', join(this.dir, 'log'), '-w', 'start']);
  }
  /** The postmaster's pid, from its own pid file: the only process this script ever stops. */
  get pid(): number {
    return Number(readFileSync(join(this.dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }
  get running(): boolean {
    return existsSync(join(this.dir, 'postmaster.pid'));
  }
  /** SIGQUIT to our postmaster is `pg_ctl stop -m immediate`: a crash; start() then runs recovery. */
  async stopImmediate(): Promise<void> {
    process.kill(this.pid, 'SIGQUIT');
    for (let i = 0; i < 100 && this.running; i++) await sleep(100);
  }
  /** SIGINT is `pg_ctl stop -m fast`. */
  async stopFast(): Promise<void> {
    if (!this.running) return;
    process.kill(this.pid, 'SIGINT');
    for (let i = 0; i < 100 && this.running; i++) await sleep(100);
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function phaseRestart(): Promise<void> {
  const bin = values['pg-bin']!;
  if (!existsSync(join(bin, 'initdb'))) {
    check('phase 3: throwaway Postgres cluster available', false, `no initdb in ${bin} (set PG_BIN)`);
    return;
  }
  const port = await freePort();
  const cluster = new Cluster(bin, port);
  let serve: Child | undefined;
  try {
    log(`phase 3: throwaway cluster on port ${port} in ${cluster.dir}`);
    cluster.init();
    cluster.start();
    const databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    // The real `clerk-sync serve`: receiver and worker in one process, configured by environment.
    serve = new Child(
      'serve',
      { ...process.env, DATABASE_URL: databaseUrl, CLERK_WEBHOOK_SIGNING_SECRET: SECRET, NODE_ENV: 'production', CLERK_SYNC_LOG_LEVEL: 'warn', CLERK_SYNC_POLL_INTERVAL_MS: '200' },
      [CLI, 'serve', '--port', '0', '--host', '127.0.0.1'],
    );
    await serve.start();
    const url = /listening on (http:\/\/\S+)/.exec(serve.out)![1]!;
    const servePid = serve.pid;
    const x = newExpectation();
    const stream = new Stream('p3', x);
    let streaming = true;
    const driving = drive(() => url, stream, Math.max(30, RATE / 3), () => streaming);
    await sleep(4000);
    const downAt = Date.now();
    await cluster.stopImmediate();
    const stoppedAt = Date.now();
    log('phase 3: database stopped (immediate: a crash)');
    await sleep(5000);
    const restartAt = Date.now();
    cluster.start();
    const upAt = Date.now();
    log('phase 3: database started again (crash recovery done)');
    await sleep(6000);
    streaming = false;
    const outcomes = await driving;
    const down = outcomes.filter((o) => o.startedAt >= stoppedAt && o.endedAt <= restartAt);
    const after = outcomes.filter((o) => o.startedAt >= upAt);
    const downOk = down.filter((o) => o.status >= 200 && o.status < 300).length;
    const down503 = down.filter((o) => o.status === 503).length;
    const stored = Number((await sql<{ n: number }>(databaseUrl, 'select count(*)::int as n from clerk.webhook_events'))[0]!.n);
    log(`phase 3: ${x.acked.size} acknowledged, ${stored} stored (a delivery in flight at the crash may be stored without its answer: Svix retries it, a duplicate)`);
    check('phase 3: while the database is down, deliveries get 503 and none is acknowledged', down.length > 0 && downOk === 0 && down503 === down.length, `${down.length} deliveries while down: ${down503}× 503, ${downOk}× 2xx, others ${down.length - down503 - downOk}; stop took ${stoppedAt - downAt} ms`);
    check('phase 3: the receiver recovers by itself once the database is back', after.some((o) => o.status === 200), `${after.filter((o) => o.status === 200).length} of ${after.length} deliveries after the restart answered 200`);
    // What the crash interrupted (a batch under way, a claim whose answer was lost) is handed back
    // as soon as the database answers (test/worker/worker.test.ts shows each with a 60 s lease);
    // at the latest it returns when the 15 s claim lease ends.
    const settled = await settle(databaseUrl, 25_000);
    const settledIn = ((Date.now() - upAt) / 1000).toFixed(1);
    check('phase 3: the same worker process applied everything, including what arrived after the restart, within 25 s', settled && serve.proc.exitCode === null && serve.pid === servePid, `all applied ${settledIn} s after the restart; serve pid ${servePid} still running: ${serve.proc.exitCode === null}`);
    // `serve` is the plain CLI (no apply-log hook): stored, applied and converged is what it shows.
    await verifyApplied('phase 3', databaseUrl, x, false);
    const code = await serve.term();
    check('phase 3: serve exits 0 on SIGTERM', code === 0, `exit ${code}`);
  } finally {
    if (serve?.proc && serve.proc.exitCode === null) serve.proc.kill('SIGKILL');
    await cluster.stopFast().catch(() => {});
    cluster.remove();
  }
}

async function main(): Promise<void> {
  const hardStop = setTimeout(() => {
    console.log('FAIL  the crash script ran out of time (240 s)');
    process.exit(1);
  }, 240_000);
  hardStop.unref();
  try {
    if (!values.only || values.only === 'kills') await phaseKills(values.url!);
    if (!values.only || values.only === 'restart') await phaseRestart();
  } catch (error) {
    check('the crash script ran to the end', false, (error as Error)?.stack ?? String(error));
  }
  const failed = results.filter((r) => !r.ok);
  console.log(`\n${failed.length === 0 ? 'PASS' : 'FAIL'}: ${results.length - failed.length}/${results.length} checks passed in ${((Date.now() - T0) / 1000).toFixed(0)} s`);
  process.exit(failed.length === 0 ? 0 : 1);
}

await main();
