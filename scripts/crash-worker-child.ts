/**
 * A worker process for scripts/crash-worker.ts: the same `createClerkSync(...).startWorker()` as
 * `clerk-sync worker`, configured from the environment, with short leases so a killed worker's
 * claims come back within the script's time budget, and a hook that logs each apply in the apply
 * transaction (the "applied exactly once in effect" evidence: a row exists only if the apply
 * committed).
 *
 *   node --import tsx scripts/crash-worker-child.ts apply|dispatch|both
 */
import { optionsFromEnv } from '../src/core/config.js';
import { createClerkSync } from '../src/service/clerk-sync.js';

const role = process.argv[2] ?? 'both';
const options = optionsFromEnv(process.env);
const sync = createClerkSync({
  ...options,
  logLevel: 'warn',
  sideEffects: { emailRelay: true },
  worker: { batchSize: 50, pollIntervalMs: 100, leaseMs: 1500, retryBaseMs: 200, retryMaxMs: 2000, maxAttempts: 50, shutdownTimeoutMs: 3000 },
  outbox: { concurrency: 8, pollIntervalMs: 100, sendTimeoutMs: 2000, leaseMs: 2500, retryBaseMs: 200, retryMaxMs: 2000 },
});
sync.hooks.on('*', async (event, tx) => {
  await tx.query('insert into public.crash_apply_log (event_id, pid) values ($1, $2)', [event.id, process.pid]);
});
await sync.db();
const running = await sync.startWorker({ apply: role !== 'dispatch', dispatch: role !== 'apply' });
console.log(`ready ${role} ${process.pid}`);
const stop = async () => {
  await running.stop();
  await sync.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
