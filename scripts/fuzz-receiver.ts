/**
 * The long fuzz campaign CI runs (the vitest file runs a shorter one):
 *
 *   node --import tsx scripts/fuzz-receiver.ts [--requests 100000] [--seed N]
 *
 * Creates a database on FUZZ_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * starts `clerk-sync serve` on it with rate limits off, sends the generated requests (see
 * test/hardening/fuzz-engine.ts), checks the inbox, drops the database, prints PASS or FAIL and
 * exits 1 on failure.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { fuzzServer, judge, summarize } from '../test/hardening/fuzz-engine.js';
import { startServe } from '../test/hardening/support.js';
import { queryOnce, withDatabase } from '../test/support/postgres-admin.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '100000' }, seed: { type: 'string' } } });
const adminUrl = process.env.FUZZ_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `clerk_sync_fuzz_${randomBytes(5).toString('hex')}`;
const dbUrl = withDatabase(adminUrl, name);
const MAX_BODY = 64 * 1024;

const admin = (sql: string) => queryOnce(adminUrl, sql);

async function main(): Promise<number> {
  await admin(`create database ${name}`);
  const server = await startServe({ DATABASE_URL: dbUrl, CLERK_SYNC_RATE_LIMIT_FAILED: '0', CLERK_SYNC_LOG_LEVEL: 'error', CLERK_SYNC_MAX_BODY_BYTES: String(MAX_BODY) });
  try {
    const report = await fuzzServer({
      url: server.url,
      pid: server.pid,
      requests: Number(values.requests),
      seed: values.seed ? Number(values.seed) : undefined,
      maxBodyBytes: MAX_BODY,
      log: (line) => console.log(line),
    });
    console.log(`summary: ${JSON.stringify(summarize(report))}`);
    const problems: string[] = [];
    if (server.child.exitCode !== null) problems.push(`the server exited (${server.child.exitCode})`);
    else if ((await fetch(`${server.url}/healthz`)).status !== 200) problems.push('the server no longer answers /healthz');
    await server.stop();
    const code = await server.exited;
    if (code !== 0) problems.push(`the server did not stop cleanly (${code})`);
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    const stored = (await client.query<{ id: string }>('select id from clerk.webhook_events')).rows.map((r) => r.id);
    await client.end();
    problems.push(...judge(report, stored));
    if (problems.length > 0) {
      console.log(`FAIL (seed ${report.seed}):\n  ${problems.join('\n  ')}`);
      if (problems.length > 0 && server.output()) console.log(server.output().slice(-4000));
      return 1;
    }
    console.log(`PASS: ${report.requests} requests in ${(report.durationMs / 1000).toFixed(1)} s, ${stored.length} events stored, server RSS ${Math.round(report.rssMb.warmupMax)} in warm-up → max ${Math.round(report.rssMb.max)} MB`);
    return 0;
  } finally {
    await server.stop();
    await admin(`drop database if exists ${name} with (force)`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.log('FAIL:', error);
    void admin(`drop database if exists ${name} with (force)`).finally(() => process.exit(1));
  },
);
