/**
 * One worker process for bench/apply.ts: the same Worker `clerk-sync worker` runs, on its own
 * pool, so its CPU can be read from /proc apart from the benchmark's. Talks to its parent over
 * IPC: `ready` (pool connected, with the backend pids), then on `go` it drains, says `drained`
 * when every expected event has an outcome, and on `stop` stops, reports its counts and exits.
 *
 *   node --import tsx bench/support/apply-worker.ts <url> <events> <batchSize> <concurrency>
 */
import type { Db, Queryable } from '../../src/core/db.js';
import { createPgDb } from '../../src/db/pg.js';
import { benchWorker } from './backlog-db.js';

const [rawUrl, events, batchSize, concurrency] = process.argv.slice(2);
const url = new URL(rawUrl!);
if (process.env.BENCH_PG_OPTIONS) url.searchParams.set('options', process.env.BENCH_PG_OPTIONS);
const expected = Number(events);
const lanes = Number(concurrency);
const send = (message: unknown) => process.send!(message);

const pool = createPgDb({ connectionString: url.toString(), max: lanes });
/** BENCH_TRACE=1: wall time per statement (first words), printed on stop, to see where a batch goes. */
const trace = new Map<string, { n: number; ms: number }>();
const timed = (q: Queryable): Queryable => ({
  query: async (text, params) => {
    const t = performance.now();
    try {
      return await q.query(text, params);
    } finally {
      const key = text.replace(/\s+/g, ' ').slice(0, 70);
      const entry = trace.get(key) ?? { n: 0, ms: 0 };
      entry.n++;
      entry.ms += performance.now() - t;
      trace.set(key, entry);
    }
  },
});
const db: Db = process.env.BENCH_TRACE
  ? { ...pool, ...timed(pool), transaction: (fn, options) => pool.transaction((tx) => fn(timed(tx)), options) }
  : pool;
// Every connection the worker will use is opened now, so the parent knows which backends to watch.
const pids = await Promise.all(
  Array.from({ length: lanes }, () => db.transaction(async (tx) => (await tx.query<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.05)')).rows[0]!.pid)),
);
let outcomes = 0;
let started = 0;
const worker = benchWorker(db, {
  batchSize: Number(batchSize),
  concurrency: lanes,
  onOutcome: () => {
    if (++outcomes === expected) send({ kind: 'drained', ms: performance.now() - started });
  },
});
process.on('message', async (message: { kind: string }) => {
  if (message.kind === 'go') {
    started = performance.now();
    worker.start();
  } else if (message.kind === 'stop') {
    await worker.stop();
    await db.close();
    if (process.env.BENCH_TRACE) for (const [k, v] of [...trace].sort((a, b) => b[1].ms - a[1].ms)) console.error(`trace ${v.ms.toFixed(0).padStart(7)} ms ${String(v.n).padStart(6)}× ${k}`);
    send({ kind: 'stopped', stats: worker.stats });
    process.exit(0);
  }
});
// Orphaned (the benchmark died): nothing else would stop it.
process.on('disconnect', () => process.exit(1));
send({ kind: 'ready', pids });
