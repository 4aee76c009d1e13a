/**
 * The PGlite row of bench/apply.ts, in a process of its own (PGlite runs in-process, so the
 * process CPU is the worker's and the database's together): builds the same backlog in an
 * in-memory PGlite, then times one Worker loop draining it and sends the report to the parent.
 *
 *   node --import tsx bench/support/apply-pglite.ts <events> <population json> <batchSize>
 */
import { migrate } from '../../src/db/migrate.js';
import { createPGliteDb } from '../../src/db/pglite.js';
import { benchWorker, projectPopulation, storeEvents } from './backlog-db.js';
import { realisticMix } from './realistic-mix.js';
import { loadAverage } from './proc.js';

const [events, population, batchSize] = process.argv.slice(2);
const expected = Number(events);

const db = await createPGliteDb();
await migrate(db);
const mix = realisticMix(expected, JSON.parse(population!));
await projectPopulation(db, mix.population);
await storeEvents(db, mix.backlog);
await db.query('vacuum analyze');

const loadBefore = loadAverage();
let outcomes = 0;
let markDrained!: (at: number) => void;
const drained = new Promise<number>((resolve) => (markDrained = resolve));
const worker = benchWorker(db, {
  batchSize: Number(batchSize),
  concurrency: 1,
  onOutcome: () => {
    if (++outcomes === expected) markDrained(performance.now());
  },
});
const cpu0 = process.cpuUsage();
const started = performance.now();
worker.start();
const ms = (await drained) - started;
const cpu = process.cpuUsage(cpu0);
const loadAfter = loadAverage();
await worker.stop();
await db.close();
process.send!({ ms, cpuUs: cpu.user + cpu.system, stats: worker.stats, loadBefore, loadAfter });
