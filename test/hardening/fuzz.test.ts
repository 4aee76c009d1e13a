/**
 * Hostile input at volume: FUZZ_REQUESTS (default 25,000 on Postgres, 10,000 on PGlite; `scripts/fuzz-receiver.ts` runs 100,000
 * in CI) generated requests against a running `clerk-sync serve` process, rate limits off so
 * every request reaches the receiver. Afterwards: the process is alive and answers, no request got
 * a 5xx, only validly signed events were stored, every acknowledged valid event was, and the
 * server's memory stayed bounded. FUZZ_SEED replays a run.
 * @see issue #7
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../src/core/db.js';
import { createPGliteDb } from '../../src/db/pglite.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { fuzzServer, judge, summarize } from './fuzz-engine.js';
import { startServe, type ServeProcess } from './support.js';

const postgres = backends.find((b) => b.name === 'postgres');
// PGlite (no TEST_DATABASE_URL) stores about a third as fast as Postgres.
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? (postgres ? 25_000 : 10_000));
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const MAX_BODY = 64 * 1024;

let database: TestDatabase | undefined;
let dataDir: string | undefined;
let server: ServeProcess;

beforeAll(async () => {
  let target: Record<string, string>;
  if (postgres) {
    database = await postgres.create();
    target = { DATABASE_URL: database.url! };
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'clerk-sync-fuzz-'));
    target = { CLERK_SYNC_DATA_DIR: dataDir };
  }
  server = await startServe({ ...target, CLERK_SYNC_RATE_LIMIT_FAILED: '0', CLERK_SYNC_LOG_LEVEL: 'error', CLERK_SYNC_MAX_BODY_BYTES: String(MAX_BODY) });
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it(`survives ${REQUESTS} fuzzed requests: no crash, no 5xx, nothing invalid stored, bounded memory`, async () => {
  const report = await fuzzServer({ url: server.url, pid: server.pid, requests: REQUESTS, seed: SEED, maxBodyBytes: MAX_BODY });
  console.log(`fuzz summary: ${JSON.stringify(summarize(report))}`);
  expect(report.violations).toEqual([]);
  expect(server.child.exitCode).toBeNull();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  expect(report.requests).toBe(REQUESTS);

  await server.stop();
  expect(await server.exited).toBe(0);
  const db: Db = database ? database.db : await createPGliteDb(dataDir!);
  try {
    const stored = (await db.query<{ id: string }>('select id from clerk.webhook_events')).rows.map((r) => r.id);
    expect(judge(report, stored)).toEqual([]);
  } finally {
    if (!database) await db.close();
  }
}, 120_000);
