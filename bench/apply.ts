/**
 * Apply benchmark: fills the inbox of a throwaway database (clerk_sync_bench_*) with a backlog
 * of mixed events (users, organizations, memberships, sessions, with updates, partly out of
 * order), then measures how fast it is applied:
 * - batch apply (one transaction per claimed batch), by one loop and by two loops at once;
 * - one event per transaction (batch size 1), the baseline the batches are measured against,
 *   on a sample because at its speed the whole backlog would take minutes.
 * Each run starts from the same pending backlog and empty projections. Prints a table.
 *
 *   node --import tsx bench/apply.ts [--events 100000] [--batch 100,500] [--single-sample 5000]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { applyBatch, emptyCounts, addCounts, type ApplyDeps, type OutcomeCounts } from '../src/apply/apply-batch.js';
import { claimEvents } from '../src/apply/claim.js';
import { NO_SIDE_EFFECTS } from '../src/apply/side-effects.js';
import { createLogger } from '../src/core/logger.js';
import { migrate } from '../src/db/migrate.js';
import { createPgDb } from '../src/db/pg.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';
import { enqueueEvents, type InboxItem } from '../src/inbox/enqueue.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '100,500' },
    'single-sample': { type: 'string', default: '5000' },
    url: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const EVENTS = Number(values.events);
const BATCHES = values.batch!.split(',').map(Number);
const SINGLE_SAMPLE = Math.min(EVENTS, Number(values['single-sample']));
const T0 = 1_750_000_000_000;

const admin = (sql: string) => queryOnce(values.url!, sql).then(() => undefined);

/**
 * A deterministic mix, roughly what a growing B2B app sends: sessions and user updates dominate.
 * Each entity's events get increasing versions; all events are then ordered by time, and one
 * pair in ten is swapped because Svix does not promise order.
 */
function backlog(n: number): InboxItem[] {
  const share = { users: 0.08, userUpdates: 0.22, orgs: 0.01, orgUpdates: 0.02, memberships: 0.1, membershipUpdates: 0.04, membershipDeletes: 0.01, sessions: 0.3 };
  const U = Math.max(1, Math.round(n * share.users));
  const O = Math.max(1, Math.round(n * share.orgs));
  const M = Math.max(1, Math.round(n * share.memberships));
  const S = Math.max(1, Math.round(n * share.sessions));
  const timed: Array<{ t: number; type: string; data: Record<string, unknown> }> = [];
  const span = n; // one millisecond of "time" per event
  const at = (i: number, count: number) => T0 + Math.floor((i / count) * span * 0.5);
  const userData = (u: number, v: number) => ({
    id: `user_${u}`, object: 'user', first_name: 'Bench', last_name: `User ${u}`, username: null,
    primary_email_address_id: `idn_${u}`, email_addresses: [{ id: `idn_${u}`, object: 'email_address', email_address: `u${u}@bench.test` }],
    phone_numbers: [], public_metadata: { role: 'member', permissions: ['read'], isActive: true }, private_metadata: {}, unsafe_metadata: {},
    last_sign_in_at: v, last_active_at: v, created_at: T0, updated_at: v, banned: false, locked: false,
  });
  const orgData = (o: number, v: number) => ({ id: `org_${o}`, object: 'organization', name: `Org ${o}`, slug: `org-${o}`, created_by: `user_${o}`, public_metadata: {}, private_metadata: {}, max_allowed_memberships: 50, created_at: T0, updated_at: v });
  const memData = (m: number, v: number, role: string) => ({
    id: `orgmem_${m}`, object: 'organization_membership', role, permissions: ['org:posts:read'], public_metadata: {},
    organization: { id: `org_${m % O}`, name: `Org ${m % O}` }, public_user_data: { user_id: `user_${m % U}`, identifier: `u${m % U}@bench.test` }, created_at: T0, updated_at: v,
  });
  const sessData = (s: number, v: number, status: string) => ({ id: `sess_${s}`, object: 'session', user_id: `user_${s % U}`, client_id: `client_${s % U}`, status, last_active_at: v, expire_at: v + 86_400_000, abandon_at: v + 604_800_000, created_at: T0, updated_at: v });
  for (let u = 0; u < U; u++) timed.push({ t: at(u, U), type: 'user.created', data: userData(u, at(u, U)) });
  for (let o = 0; o < O; o++) timed.push({ t: at(o, O), type: 'organization.created', data: orgData(o, at(o, O)) });
  for (let m = 0; m < M; m++) timed.push({ t: at(m, M) + 1, type: 'organizationMembership.created', data: memData(m, at(m, M) + 1, m % 7 ? 'org:member' : 'org:admin') });
  for (let s = 0; s < S; s++) timed.push({ t: at(s, S) + 2, type: 'session.created', data: sessData(s, at(s, S) + 2, 'active') });
  const later = (i: number, count: number) => T0 + span * 0.5 + Math.floor((i / count) * span * 0.5);
  const updates = Math.round(n * share.userUpdates);
  for (let i = 0; i < updates; i++) timed.push({ t: later(i, updates), type: 'user.updated', data: userData(i % U, later(i, updates)) });
  const orgUpdates = Math.round(n * share.orgUpdates);
  for (let i = 0; i < orgUpdates; i++) timed.push({ t: later(i, orgUpdates), type: 'organization.updated', data: orgData(i % O, later(i, orgUpdates)) });
  const memUpdates = Math.round(n * share.membershipUpdates);
  for (let i = 0; i < memUpdates; i++) timed.push({ t: later(i, memUpdates), type: 'organizationMembership.updated', data: memData(i % M, later(i, memUpdates), 'org:member') });
  const memDeletes = Math.round(n * share.membershipDeletes);
  for (let i = 0; i < memDeletes; i++) timed.push({ t: later(i, memDeletes) + 1, type: 'organizationMembership.deleted', data: memData((i * 7 + 3) % M, later(i, memDeletes) + 1, 'org:member') });
  while (timed.length < n) {
    const s = timed.length % S;
    const v = later(s, S) + 3;
    timed.push({ t: v, type: 'session.ended', data: sessData(s, v, 'ended') });
  }
  timed.length = n;
  timed.sort((a, b) => a.t - b.t);
  for (let i = 0; i + 1 < timed.length; i += 10) [timed[i], timed[i + 1]] = [timed[i + 1]!, timed[i]!];
  return timed.map((e, seq) => {
    const payload = JSON.stringify({ type: e.type, object: 'event', timestamp: e.t, instance_id: 'ins_bench', data: e.data });
    return { id: `msg_${seq.toString(36).padStart(8, '0')}`, type: e.type, clerkTimestamp: e.t, instanceId: 'ins_bench', payload, bodySha256: '', source: 'webhook' };
  });
}

interface Run {
  label: string;
  events: number;
  ms: number;
  counts: OutcomeCounts;
}

async function main(): Promise<void> {
  const name = `clerk_sync_bench_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = withDatabase(values.url!, name);
  const db = createPgDb({ connectionString: url, max: 6 });
  const logger = createLogger('silent');
  try {
    await migrate(db);
    const items = backlog(EVENTS);
    const mix = new Map<string, number>();
    for (const i of items) mix.set(i.type, (mix.get(i.type) ?? 0) + 1);
    let t = performance.now();
    for (let i = 0; i < items.length; i += 1000) await enqueueEvents(db, 'clerk', items.slice(i, i + 1000));
    const fillMs = performance.now() - t;
    await db.query('vacuum analyze clerk.webhook_events');

    const baseDeps: ApplyDeps = {
      db, schema: 'clerk', logger,
      context: { schema: 'clerk', deleteMode: 'soft' },
      effects: NO_SIDE_EFFECTS,
      retry: { maxAttempts: 10, retryBaseMs: 1000, retryMaxMs: 60_000 },
    };
    const reset = async () => {
      await db.query(`truncate clerk.users, clerk.organizations, clerk.organization_memberships, clerk.sessions, clerk.outbox`);
      await db.query(`update clerk.webhook_events set status = 'pending', attempts = 0, applied_at = null, last_error = null, next_attempt_at = now()`);
      await db.query('vacuum analyze');
    };
    /** `loops` claim-and-apply loops until `limit` events are done or nothing is due. */
    const run = async (label: string, batchSize: number, loops: number, limit: number): Promise<Run> => {
      await reset();
      const deps = baseDeps;
      const counts = emptyCounts();
      let done = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: loops }, async () => {
          while (done < limit) {
            const claimed = await claimEvents(db, 'clerk', { limit: Math.min(batchSize, limit - done), leaseMs: 60_000, maxAttempts: 10 });
            if (claimed.length === 0) return;
            done += claimed.length;
            addCounts(counts, (await applyBatch(deps, claimed.map((c) => c.id))).counts);
          }
        }),
      );
      return { label, events: done, ms: performance.now() - started, counts };
    };

    const runs: Run[] = [];
    runs.push(await run('one event per transaction', 1, 1, SINGLE_SAMPLE));
    for (const b of BATCHES) runs.push(await run(`batch ${b}, 1 loop`, b, 1, EVENTS));
    for (const b of BATCHES) runs.push(await run(`batch ${b}, 2 loops`, b, 2, EVENTS));

    const cpu = os.cpus();
    console.log(`\nclerk-sync apply benchmark: ${EVENTS.toLocaleString('en')} events, Postgres ${(await db.query<{ server_version: string }>('show server_version')).rows[0]!.server_version}, ${cpu.length}× ${cpu[0]?.model.trim()}, Node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`mix: ${[...mix].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`inbox filled in ${(fillMs / 1000).toFixed(1)} s\n`);
    console.log('| run | events | seconds | events/s | applied | stale | failed/dead |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of runs) {
      const rate = r.events / (r.ms / 1000);
      console.log(`| ${r.label} | ${r.events.toLocaleString('en')} | ${(r.ms / 1000).toFixed(1)} | ${Math.round(rate).toLocaleString('en')} | ${r.counts.applied} | ${r.counts.stale} | ${r.counts.failed + r.counts.dead} |`);
    }
    const best = runs.slice(1).reduce((a, b) => (b.events / b.ms > a.events / a.ms ? b : a));
    const single = runs[0]!;
    console.log(`\nbest: ${best.label}, ${Math.round(best.events / (best.ms / 1000)).toLocaleString('en')} events/s, ${(best.events / (best.ms / 1000) / (single.events / (single.ms / 1000))).toFixed(1)}× one-per-transaction; backlog drained in ${(best.ms / 1000).toFixed(1)} s`);
    const failures = runs.reduce((n, r) => n + r.counts.failed + r.counts.dead, 0);
    if (failures > 0) {
      console.log(`FAIL: ${failures} events failed to apply`);
      process.exitCode = 1;
    }
  } finally {
    await db.close();
    await admin(`drop database if exists ${name} with (force)`);
  }
}

await main();
