/** `clerk-sync status`: the inbox and outbox at a glance, with an exit code for scripts. */
import { parseArgs } from 'node:util';
import type { BackfillStatus } from '../../backfill/index.js';
import { isDatabaseUnavailable } from '../../core/db.js';
import { queueStats, type QueueStats } from '../../metrics/index.js';
import { askServe } from '../../server/control.js';
import { createClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';
import { formatDuration } from '../progress.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Shows the inbox by status, the oldest pending age, dead letters, the outbox and the backfill.';

export const help = `Usage: clerk-sync status [--json] [--max-age SECONDS]

Shows inbox events by status, the oldest pending age, dead letters and the outbox backlog.

The inbox: events by status, the oldest pending event's age, dead letters. The outbox: side
effects waiting, retrying, dead, sent.

  --json             print the numbers as JSON
  --max-age SECONDS  how old the oldest pending event may be before status reports a problem
                     (default 300)

Exit codes: 0 healthy, 1 the database could not be read (unreachable, or not migrated: run
\`clerk-sync migrate\`), 3 needs attention: dead letters or dead side effects exist, or the oldest
pending event is older than --max-age (is a worker running?).`;

const ORDER = ['pending', 'failed', 'applied', 'stale', 'ignored', 'dead', 'sent'];

function table(byStatus: Record<string, number> | undefined): string[] {
  const entries = Object.entries(byStatus ?? {}).sort(([a], [b]) => ORDER.indexOf(a) - ORDER.indexOf(b));
  if (entries.length === 0) return ['  (empty)'];
  return entries.map(([status, n]) => `  ${(status === 'failed' ? 'failed (retrying)' : status).padEnd(18)} ${n.toLocaleString('en-US').padStart(12)}`);
}

export function problems(stats: QueueStats, maxAgeSeconds: number): string[] {
  const out: string[] = [];
  if (stats.inbox.dead > 0) out.push(`${stats.inbox.dead} dead letter(s): fix the cause (the admin page shows each one's last error), then replay them there or with \`clerk-sync replay --dead --drain\``);
  if (stats.inbox.oldestPendingAgeSeconds > maxAgeSeconds) out.push(`the oldest pending event waits for ${formatDuration(stats.inbox.oldestPendingAgeSeconds)}: is a worker running (\`clerk-sync serve\` or \`clerk-sync worker\`)?`);
  if (stats.outbox.dead > 0) out.push(`${stats.outbox.dead} side effect(s) dead: check the sender's configuration (RESEND_API_KEY, SLACK_WEBHOOK_URL), then retry them from the admin page`);
  return out;
}

export async function run(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, 'max-age': { type: 'string' } } });
  const maxAgeText = values['max-age'] ?? '300';
  if (!/^\d+$/.test(maxAgeText)) {
    console.error(`--max-age must be a whole number of seconds, got "${maxAgeText}"`);
    return 2;
  }
  const options = baseOptions(env);
  const sync = createClerkSync({ ...options, autoMigrate: false, logLevel: 'silent' });
  try {
    let stats: QueueStats;
    let backfill: BackfillStatus | null;
    try {
      stats = await queueStats(await sync.db(), sync.config.schema, { full: true });
      backfill = await sync.backfillStatus().catch(() => null);
    } catch (error) {
      // The embedded database is held by `clerk-sync serve`: ask it over its control socket.
      const remote = (error as { code?: string }).code === 'database_in_use' ? await askServe<{ stats: QueueStats; backfill: BackfillStatus | null }>(options.dataDir, 'GET', '/status').catch(() => undefined) : undefined;
      if (remote) return report(remote.stats, reviveBackfill(remote.backfill), sync.config.schema, Boolean(values.json), Number(maxAgeText));
      const pending = isDatabaseUnavailable(error) ? [] : await sync.readiness().then((r) => r.pendingMigrations, () => []);
      console.error(
        isDatabaseUnavailable(error)
          ? `The database is unreachable (${options.databaseUrl ? 'DATABASE_URL' : `embedded database in ${options.dataDir}`}): ${(error as Error).message}`
          : pending.length > 0
            ? `The database is not migrated (${pending.length} pending migration(s)): run \`clerk-sync migrate\``
            : `Could not read the inbox: ${(error as Error).message}`,
      );
      return 1;
    }
    return report(stats, backfill, sync.config.schema, Boolean(values.json), Number(maxAgeText));
  } finally {
    await sync.close();
  }
}

/** Dates arrive from the control socket as ISO strings. */
function reviveBackfill(run: BackfillStatus | null): BackfillStatus | null {
  if (!run) return null;
  const date = (v: unknown) => (v ? new Date(v as string) : null);
  return {
    ...run,
    startedAt: new Date(run.startedAt as unknown as string),
    finishedAt: date(run.finishedAt),
    heartbeatAt: date(run.heartbeatAt),
    listings: run.listings.map((l) => ({ ...l, finishedAt: date(l.finishedAt) })),
  };
}

function report(stats: QueueStats, backfill: BackfillStatus | null, s: string, json: boolean, maxAgeSeconds: number): number {
  const found = problems(stats, maxAgeSeconds);
  if (json) {
    console.log(JSON.stringify({ ...stats, backfill, problems: found }, null, 2));
    return found.length ? 3 : 0;
  }
  console.log(`Inbox (${s}.webhook_events)`);
  for (const line of table(stats.inbox.byStatus)) console.log(line);
  console.log(`  oldest pending     ${stats.inbox.pending + stats.inbox.retrying > 0 ? formatDuration(stats.inbox.oldestPendingAgeSeconds).padStart(12) : '—'.padStart(12)}`);
  console.log(`Outbox (${s}.outbox)`);
  for (const line of table(stats.outbox.byStatus)) console.log(line);
  if (stats.outbox.pending + stats.outbox.retrying > 0) console.log(`  oldest waiting     ${formatDuration(stats.outbox.oldestPendingAgeSeconds).padStart(12)}`);
  if (backfill) for (const line of describeBackfill(backfill)) console.log(line);
  if (found.length === 0) {
    console.log('OK');
    return 0;
  }
  for (const p of found) console.log(`! ${p}`);
  return 3;
}

/** The latest backfill run: one line per listing with its progress. */
export function describeBackfill(run: BackfillStatus): string[] {
  const held = run.holder ? ` by pid ${run.holder.pid} on ${run.holder.host}` : '';
  const state = run.status === 'complete'
    ? `complete ${run.finishedAt?.toISOString() ?? ''}`
    : run.status === 'replaced' ? 'replaced by another run' : run.holder ? `running${held}` : 'stopped: `clerk-sync backfill` continues it';
  const lines = [`Backfill ${run.id} (started ${run.startedAt.toISOString()}, ${run.requests} requests): ${state}`];
  for (const l of run.listings.sort((a, b) => a.listing.localeCompare(b.listing))) {
    const where = l.finishedAt ? 'done' : `${l.position}${l.total !== null ? ` of ${l.total}` : ''}${l.perOrganization ? ' organizations' : ''}`;
    lines.push(`  ${l.listing.padEnd(32)} ${String(l.listed).padStart(8)} listed ${String(l.stored).padStart(8)} new  ${where}`);
  }
  return lines;
}
