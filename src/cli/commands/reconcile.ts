/** `clerk-sync reconcile`: a full backfill pass that also tombstones what Clerk no longer has. */
import { RESOURCE_NAMES, ReconcileRefusedError } from '../../backfill/index.js';
import { quoteIdentifier } from '../../db/identifiers.js';
import { createClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';
import { applyStored, cliLogger, describeCounts, describeFailure, usageError, EXIT_INCOMPLETE, EXIT_INTERRUPTED, interruptSignal, parseCommon, progressReporter } from './backfill.js';

/** One line for `clerk-sync --help`. */
export const summary = 'A full backfill pass that also tombstones rows Clerk no longer has.';

export const help = `Usage: clerk-sync reconcile [--dry-run] [--only LIST] [--rate N] [--force] [--no-apply]

A full backfill pass that also tombstones rows Clerk no longer has, and reports the changes.

It lists everything in Clerk (like backfill, from the start), then finds the rows whose entity
Clerk no longer has. Tombstones go through synthetic *.deleted events (source "backfill"), so the same rules hold:
nothing fires, and a row is only tombstoned after Clerk confirms it is gone (404 on its own
endpoint, or absence from a fresh listing of its organization for a membership). Rows written
after the pass started are left alone. Invitations are not tombstoned: Clerk revokes them, it
does not delete them. Prints what it changed. Needs CLERK_SECRET_KEY.

  --dry-run           list and report what would be tombstoned; store and change nothing
  --only LIST         comma-separated subset of: ${RESOURCE_NAMES.join(', ')}
  --rate N            Backend API requests per second (default $CLERK_SYNC_API_RATE or 10)
  --max-requests N    give up after N requests (nothing is tombstoned then)
  --page-size N       entities per request, 1 to 500 (default 500)
  --force             tombstone even when more than half of a table is missing from Clerk
                      (by default that stops the run: it usually means the wrong CLERK_SECRET_KEY)
  --no-apply          only store the events; a running worker applies them

Exit codes: 0 done, 1 failed, 2 bad usage or no CLERK_SECRET_KEY, 3 stopped before the listing
was complete (--max-requests; nothing was tombstoned), 4 refused: too much of a table is
missing from Clerk (see --force), 130 interrupted by ^C.`;

export const EXIT_REFUSED = 4;

export async function run(args: string[], env: Env): Promise<number> {
  let parsed: ReturnType<typeof parseCommon>;
  try {
    parsed = parseCommon(args, { 'dry-run': { type: 'boolean' }, force: { type: 'boolean' } });
  } catch (error) {
    return usageError('reconcile', error, help);
  }
  const { flags, values } = parsed;
  const options = baseOptions(env);
  if (!options.clerkSecretKey) {
    console.error('clerk-sync reconcile needs CLERK_SECRET_KEY: the secret key of your Clerk instance (Clerk Dashboard → Configure → API keys).');
    return 2;
  }
  const sync = createClerkSync({ ...options, logger: cliLogger(options.logLevel ?? 'warn') });
  const interrupt = interruptSignal();
  const progress = progressReporter();
  const started = new Date();
  try {
    const result = await sync
      .reconcile({
        resources: flags.only,
        pageSize: flags.pageSize,
        requestsPerSecond: flags.rate,
        maxRequests: flags.maxRequests,
        signal: interrupt.signal,
        onProgress: progress.onProgress,
        dryRun: values['dry-run'] === true,
        force: values.force === true,
      })
      .finally(() => progress.finish());
    console.log(`Listing ${result.backfill.complete ? 'complete' : 'incomplete'} (${result.backfill.requests} Backend API requests):`);
    for (const line of describeCounts(result.backfill)) console.log(line);
    if (!result.backfill.complete) {
      console.log('The listing did not finish, so nothing was tombstoned. Run again to do a full pass.');
      return result.backfill.stopped === 'interrupted' ? EXIT_INTERRUPTED : EXIT_INCOMPLETE;
    }
    const tombstoned = Object.entries(result.tombstoned);
    if (tombstoned.length === 0) console.log('Nothing to tombstone: every row is still in Clerk.');
    for (const [resource, ids] of tombstoned) {
      const shown = ids!.slice(0, 20).join(', ');
      console.log(`${values['dry-run'] ? 'Would tombstone' : 'Tombstoned'} ${ids!.length} ${resource}: ${shown}${ids!.length > 20 ? ', …' : ''}`);
    }
    for (const [resource, reason] of Object.entries(result.skipped)) if (reason !== 'not listed in this run') console.log(`Skipped ${resource}: ${reason}`);
    if (flags.apply && !interrupt.signal.aborted) {
      const warning = await applyStored(sync);
      if (warning) console.error(warning);
      const db = await sync.db();
      const changes = await db.query<{ type: string; status: string; n: number }>(
        `select type, status, count(*)::int as n from ${quoteIdentifier(sync.config.schema)}.webhook_events
          where source = 'backfill' and received_at >= $1 group by type, status order by type, status`,
        [started],
      );
      if (changes.rows.length > 0) {
        console.log('Changes (events stored by this run, by outcome):');
        for (const r of changes.rows) console.log(`  ${r.type.padEnd(34)} ${r.status.padEnd(8)} ${String(r.n).padStart(8)}`);
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof ReconcileRefusedError) {
      console.error(`Refused: ${error.message}`);
      return EXIT_REFUSED;
    }
    const { message, exit } = describeFailure('reconcile', error);
    console.error(message);
    return exit;
  } finally {
    interrupt.dispose();
    await sync.close();
  }
}
