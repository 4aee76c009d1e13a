/**
 * Row-level security benchmark: the cost of the organization policies (clerk-sync/rls) on a
 * select of 10,000 rows of an org-scoped table. A throwaway database (clerk_sync_bench_rls_*)
 * gets an instance the size users have (by default 100,000 users, 10,000 organizations, four
 * memberships per user), a few roles, and a `notes` table of 20 organizations × 10,000 rows
 * behind organizationPolicySql(). Then, alternating, many times:
 * - without the policy: the table owner (RLS does not apply), `where organization_id = $1`;
 * - through the policy: a non-owner role in withClerkUser(), the same query;
 * - through the policy alone: the non-owner role, `select … from notes` with no where clause.
 * Each in its own transaction, rows fetched by the client. Prints medians, the ratios, and the
 * server's plan and execution time of the policy query.
 *
 *   node --import tsx bench/rls.ts [--rounds 40] [--users 100000] [--organizations 10000] [--url postgres://…]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { organizationPolicySql, withClerkUser } from '../src/access/rls.js';
import { migrate } from '../src/db/migrate.js';
import { createPgDb } from '../src/db/pg.js';
import type { Queryable } from '../src/core/db.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    users: { type: 'string', default: '100000' },
    organizations: { type: 'string', default: '10000' },
    url: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const ROUNDS = Number(values.rounds);
const USERS = Number(values.users);
const ORGANIZATIONS = Number(values.organizations);
if (!(USERS >= 100 && ORGANIZATIONS >= 20)) throw new Error('--users must be at least 100 and --organizations at least 20');
const NAME = `clerk_sync_bench_rls_${randomBytes(4).toString('hex')}`;
const ROLE = `${NAME}_app`;
const T0 = 1_750_000_000_000;
const admin = (sql: string) => queryOnce(values.url!, sql).then(() => undefined);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<number>): Promise<{ ms: number; rows: number }> {
  const start = performance.now();
  const rows = await fn();
  return { ms: performance.now() - start, rows };
}

async function main(): Promise<void> {
  await admin(`create database ${NAME}`);
  await admin(`create role ${ROLE} login nosuperuser nobypassrls`);
  const url = withDatabase(values.url!, NAME);
  const owner = createPgDb({ connectionString: url, max: 2 });
  const appUrl = new URL(url);
  appUrl.username = ROLE;
  const app = createPgDb({ connectionString: appUrl.toString(), max: 2 });
  try {
    await migrate(owner);
    // Users in four organizations each (spread by a linear formula), 3 roles.
    await owner.query(`insert into clerk.users (id, updated_at, _version) select 'user_' || g, now(), ${T0} from generate_series(1, ${USERS}) g`);
    await owner.query(`insert into clerk.organizations (id, name, updated_at, _version) select 'org_' || g, 'Org ' || g, now(), ${T0} from generate_series(1, ${ORGANIZATIONS}) g`);
    await owner.query(`insert into clerk.roles (id, key, permissions, _version) values
      ('role_admin', 'org:admin', '{org:notes:read,org:notes:write}', ${T0}), ('role_member', 'org:member', '{org:notes:read}', ${T0}), ('role_viewer', 'org:viewer', '{}', ${T0})`);
    await owner.query(`insert into clerk.organization_memberships (id, organization_id, user_id, role, permissions, _version)
      select 'mem_' || u || '_' || k, 'org_' || (1 + (u * 7 + k * 131) % ${ORGANIZATIONS}), 'user_' || u, (array['org:admin','org:member','org:viewer'])[1 + (u + k) % 3], '{}', ${T0}
      from generate_series(1, ${USERS}) u, generate_series(1, 4) k on conflict do nothing`);
    await owner.query(`create table notes (id bigint generated always as identity primary key, organization_id text not null, title text not null, body text not null, created_at timestamptz not null default now())`);
    await owner.query(`insert into notes (organization_id, title, body) select 'org_' || o, 'Note ' || n, repeat('lorem ipsum ', 8) from generate_series(1, 20) o, generate_series(1, 10000) n`);
    await owner.query('create index notes_organization_id_idx on notes (organization_id)');
    for (const statement of organizationPolicySql({ table: 'notes', column: 'organization_id', write: 'org:notes:write' })) await owner.query(statement);
    await owner.query(`grant usage on schema clerk to ${ROLE}`);
    await owner.query(`grant select on notes to ${ROLE}`);
    await owner.query('vacuum analyze');
    // A user who is a member of exactly one of the 20 organizations with notes.
    const pick = await owner.query<{ user_id: string; organization_id: string }>(
      `select m.user_id, min(m.organization_id) as organization_id from clerk.organization_memberships m
        group by m.user_id having count(*) filter (where m.organization_id in (select distinct organization_id from notes)) = 1
           and min(m.organization_id) filter (where true) is not null limit 1`,
    );
    const userId = pick.rows[0]!.user_id;
    const orgs = await owner.query<{ organization_id: string }>(`select organization_id from clerk.organization_memberships where user_id = $1 and organization_id in (select distinct organization_id from notes)`, [userId]);
    const orgId = orgs.rows[0]!.organization_id;

    const query = 'select id, organization_id, title, body, created_at from notes';
    const count = async (q: Queryable, text: string, params: unknown[]) => (await q.query(text, params)).rows.length;
    const runs = {
      'without policy (owner, where organization_id = $1)': () => timed(() => owner.transaction((tx) => count(tx, `${query} where organization_id = $1`, [orgId]))),
      'through policy (app role, same where)': () => timed(() => withClerkUser(app, userId, (tx) => count(tx, `${query} where organization_id = $1`, [orgId]))),
      'through policy alone (app role, no where)': () => timed(() => withClerkUser(app, userId, (tx) => count(tx, query, []))),
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    for (let i = 0; i < ROUNDS + 3; i++) {
      for (const [name, run] of Object.entries(runs)) {
        const { ms, rows } = await run();
        if (rows !== 10_000) throw new Error(`${name}: ${rows} rows, expected 10000`);
        if (i >= 3) times[name]!.push(ms); // the first rounds warm caches and plans
      }
    }
    const base = median(times[Object.keys(runs)[0]!]!);
    const memberships = (await owner.query<{ n: string }>('select count(*)::text as n from clerk.organization_memberships')).rows[0]!.n;
    console.log(`rls bench: 10,000 rows of 200,000; ${USERS.toLocaleString('en')} users, ${ORGANIZATIONS.toLocaleString('en')} organizations, ${Number(memberships).toLocaleString('en')} memberships; ${ROUNDS} rounds; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log('| query | median ms | ratio |');
    for (const [name, xs] of Object.entries(times)) console.log(`| ${name} | ${median(xs).toFixed(2)} | ${(median(xs) / base).toFixed(2)}x |`);

    const explain = async (q: Queryable, text: string, params: unknown[]) =>
      (await q.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off, timing off, summary on) ${text}`, params)).rows.map((r) => r['QUERY PLAN']);
    const plainPlan = await owner.transaction((tx) => explain(tx, `${query} where organization_id = $1`, [orgId]));
    const policyPlan = await withClerkUser(app, userId, (tx) => explain(tx, query, []));
    console.log('\nwithout policy (owner):\n  ' + plainPlan.join('\n  '));
    console.log('\nthrough policy alone (app role):\n  ' + policyPlan.join('\n  '));
    const lookup = await withClerkUser(owner, userId, (tx) => explain(tx, `select * from clerk.active_organization_memberships where user_id = clerk.current_user_id()`, []));
    console.log('\nthe membership lookup inside member_organizations():\n  ' + lookup.join('\n  '));
  } finally {
    await app.close();
    await owner.close();
    await admin(`drop database if exists ${NAME} with (force)`);
    await admin(`drop role if exists ${ROLE}`);
  }
}

await main();
