/**
 * The state of the inbox and the outbox, for `/metrics` (at every scrape), `clerk-sync status`
 * and the admin page. The pending and retrying counts read only what the partial "due" indexes
 * cover, so they stay cheap however many applied events the inbox keeps. Dead letters have no
 * index of their own (a scan), so the scrape reader re-counts them at most every 30 s; the full
 * variant counts every status (one scan, fine for a command run by hand).
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';

export interface QueueStats {
  inbox: {
    pending: number;
    /** Failed at least once and waiting for a retry. */
    retrying: number;
    dead: number;
    /** Seconds since the oldest pending or retrying event was received; 0 when none waits. */
    oldestPendingAgeSeconds: number;
    /** Every status with its count (full variant only). */
    byStatus?: Record<string, number>;
  };
  outbox: {
    pending: number;
    retrying: number;
    dead: number;
    oldestPendingAgeSeconds: number;
    byStatus?: Record<string, number>;
  };
}

type Row = { pending: string | number; retrying: string | number; oldest: string | number | null };

async function due(db: Queryable, table: string, since: string): Promise<{ pending: number; retrying: number; oldestPendingAgeSeconds: number }> {
  const r = await db.query<Row>(
    `select count(*) filter (where status = 'pending') as pending,
            count(*) filter (where status = 'failed') as retrying,
            extract(epoch from now() - min(${since})) as oldest
       from ${table} where status in ('pending', 'failed')`,
  );
  const row = r.rows[0];
  return { pending: Number(row?.pending ?? 0), retrying: Number(row?.retrying ?? 0), oldestPendingAgeSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
}

async function countDead(db: Queryable, table: string): Promise<number> {
  const r = await db.query<{ n: string | number }>(`select count(*) as n from ${table} where status = 'dead'`);
  return Number(r.rows[0]?.n ?? 0);
}

async function byStatus(db: Queryable, table: string): Promise<Record<string, number>> {
  const r = await db.query<{ status: string; n: string | number }>(`select status, count(*) as n from ${table} group by status order by status`);
  return Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)]));
}

export async function queueStats(db: Queryable, schema: string, options: { full?: boolean } = {}): Promise<QueueStats> {
  const s = quoteIdentifier(schema);
  const [inboxDue, inboxDead, outboxDue, outboxDead] = await Promise.all([
    due(db, `${s}.webhook_events`, 'received_at'),
    countDead(db, `${s}.webhook_events`),
    due(db, `${s}.outbox`, 'created_at'),
    countDead(db, `${s}.outbox`),
  ]);
  const stats: QueueStats = { inbox: { ...inboxDue, dead: inboxDead }, outbox: { ...outboxDue, dead: outboxDead } };
  if (options.full) {
    const [inbox, outbox] = await Promise.all([byStatus(db, `${s}.webhook_events`), byStatus(db, `${s}.outbox`)]);
    stats.inbox.byStatus = inbox;
    stats.outbox.byStatus = outbox;
  }
  return stats;
}

/**
 * For scrapes: due counts at every call, dead counts at most every `deadTtlMs` (they change
 * rarely, and counting them scans the table).
 */
export function createQueueStatsReader(db: () => Promise<Queryable>, schema: string, options: { deadTtlMs?: number; now?: () => number } = {}): () => Promise<QueueStats> {
  const ttl = options.deadTtlMs ?? 30_000;
  const now = options.now ?? Date.now;
  let dead: { at: number; inbox: number; outbox: number } | undefined;
  return async () => {
    const q = await db();
    const s = quoteIdentifier(schema);
    if (!dead || now() - dead.at >= ttl) {
      const [inbox, outbox] = await Promise.all([countDead(q, `${s}.webhook_events`), countDead(q, `${s}.outbox`)]);
      dead = { at: now(), inbox, outbox };
    }
    const [inboxDue, outboxDue] = await Promise.all([due(q, `${s}.webhook_events`, 'received_at'), due(q, `${s}.outbox`, 'created_at')]);
    return { inbox: { ...inboxDue, dead: dead.inbox }, outbox: { ...outboxDue, dead: dead.outbox } };
  };
}
