/** `clerk-sync prune`: retention by hand (a cron job in inline deployments, or to catch up at once). */
import { parseArgs } from 'node:util';
import { countPrunable, prune, retentionCutoff, WORKER_PRUNE_PACE } from '../../apply/prune.js';
import { MAX_RETENTION_DAYS } from '../../core/config.js';
import { createClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';
import { createProgress } from '../progress.js';
import { invalidOption } from '../usage.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Deletes old applied events and old sent side effects\' payloads (retention).';

export const help = `Usage: clerk-sync prune [--days N] [--paced] [--dry-run] [--json]

Applies retention now, the same as the worker does every ten minutes or so: inbox events that are
applied, stale or ignored and older than N days are deleted, and side effects sent more than N
days ago lose their payload (the row stays, so a redelivered old event never sends its effect a
second time). Pending, failed and dead events and unsent side effects are never touched. It works
in small batches, each its own short transaction, so it may run while webhooks arrive; only one
prune runs at a time across all processes. See docs/operations.md "Retention".

  --days N     older than N days, 1 to ${MAX_RETENTION_DAYS} (default CLERK_SYNC_RETENTION_DAYS, 30)
  --paced      as gently as the worker: batches of about 10 ms, a tenth of one connection's time
               (to catch up on a large old database while webhooks arrive; without it, batches
               of 1,000 run back to back: fastest, but intake slows while it runs)
  --dry-run    count what would be pruned, change nothing
  --json       print the result as JSON

Exit codes: 0 done, 1 the database could not be used, 2 bad usage (a bad --days, or retention off
with no --days), 3 another process is pruning now (nothing was done here; it finishes the work).`;

export async function run(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { days: { type: 'string' }, paced: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } });
  const daysText = values.days;
  if (daysText !== undefined && (!/^\d+$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > MAX_RETENTION_DAYS)) {
    throw invalidOption(`--days must be a whole number from 1 to ${MAX_RETENTION_DAYS}, got "${daysText}"`);
  }
  const options = baseOptions(env);
  const sync = createClerkSync({ ...options, logLevel: env.CLERK_SYNC_LOG_LEVEL ? options.logLevel : 'warn' });
  const days = daysText === undefined ? sync.config.retentionDays : Number(daysText);
  if (days === 0) {
    await sync.close();
    throw invalidOption('retention is off (CLERK_SYNC_RETENTION_DAYS=0): give --days N to prune anyway');
  }
  try {
    const db = await sync.db();
    const schema = sync.config.schema;
    const dryRun = values['dry-run'] === true;
    const pace = values.paced ? WORKER_PRUNE_PACE : {};
    let result;
    if (dryRun || values.json) result = await prune(db, { schema, days, dryRun, ...pace });
    else {
      const total = await countPrunable(db, schema, await retentionCutoff(db, days));
      const bar = createProgress({ label: 'prune', total: total.events + total.outbox });
      result = await prune(db, { schema, days, ...pace, onProgress: (p) => bar.set(p.events + p.outbox) });
      bar.done(`${result.events + result.outbox} rows`);
    }
    if (values.json) console.log(JSON.stringify({ days, ...result }));
    else if (result.busy) console.log(`Another process is pruning now; pruned ${result.events} events and ${result.outbox} side effects here before it took over.`);
    else if (dryRun) console.log(`Would delete ${result.events} events and reduce ${result.outbox} sent side effects older than ${days} days (before ${result.cutoff}).`);
    else console.log(`Deleted ${result.events} events and reduced ${result.outbox} sent side effects older than ${days} days (before ${result.cutoff}).`);
    return result.busy ? 3 : 0;
  } finally {
    await sync.close();
  }
}
