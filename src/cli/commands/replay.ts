/** `clerk-sync replay`: queue stored events (or side effects) to be applied (sent) again. */
import { parseArgs } from 'node:util';
import type { ReplayableStatus, ReplaySelector } from '../../apply/replay.js';
import type { OutboxReplaySelector } from '../../outbox/replay.js';
import { askServe } from '../../server/control.js';
import { createClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Queues stored events to be applied again, or side effects to be sent again.';

export const help = `Usage: clerk-sync replay [--id ID]... [--type TYPE] [--since TIME] [--until TIME] [--dead] [--failed] [--all] [--drain]

Queues stored events to be applied again (after fixing a hook or upgrading), or side effects to be sent again.

       clerk-sync replay --outbox [--id N]... [--kind KIND] [--dead] [--failed] [--drain]

Events are chosen by svix id (msg_…, repeatable), type, time received (--since, --until: an ISO
date or a duration ago such as 30m, 6h, 7d), status (--dead, --failed); given together, all must
hold. --all replays every stored event. Replay is idempotent: the tables converge to the same
rows, and side effects are unique per reason, so nobody gets a second welcome email.

With --outbox, side effects instead: dead ones by default (after fixing a sender's key or
address), --failed ones now, or rows by id (sent ones included: a deliberate resend; Resend still
drops a repeat of the same email within 24 hours).

A running worker picks them up at once; --drain applies (sends) them now and reports.

Exit codes: 0 queued (and, with --drain, all applied), 1 failed, 2 bad usage.`;

export async function run(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      id: { type: 'string', multiple: true },
      type: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      dead: { type: 'boolean' },
      failed: { type: 'boolean' },
      all: { type: 'boolean' },
      outbox: { type: 'boolean' },
      kind: { type: 'string' },
      drain: { type: 'boolean' },
    },
  });
  const statuses: ReplayableStatus[] = [...(values.dead ? (['dead'] as const) : []), ...(values.failed ? (['failed'] as const) : [])];
  let eventSelector: ReplaySelector | undefined;
  let outboxSelector: OutboxReplaySelector | undefined;
  if (values.outbox) {
    if (values.type || values.since || values.until || values.all) return usage('--type, --since, --until and --all select events, not side effects');
    const ids = values.id?.map((id) => (/^\d+$/.test(id) ? Number(id) : NaN));
    if (ids?.some(Number.isNaN)) return usage('outbox ids are numbers');
    outboxSelector = { ids, kind: values.kind, statuses: statuses.length > 0 ? (statuses as Array<'dead' | 'failed'>) : undefined };
  } else {
    if (values.kind) return usage('--kind selects side effects: add --outbox');
    const since = values.since === undefined ? undefined : parseTime('--since', values.since);
    const until = values.until === undefined ? undefined : parseTime('--until', values.until);
    if (since === null || until === null) return 2;
    eventSelector = { ids: values.id, type: values.type, since, until, statuses: statuses.length > 0 ? statuses : undefined, all: values.all };
    const chosen = values.id || values.type || since || until || statuses.length > 0;
    if (!chosen && !values.all) return usage('say which events: --id, --type, --since/--until, --dead, --failed, or --all');
  }
  const options = baseOptions(env);
  const sync = createClerkSync({ ...options, logLevel: env.CLERK_SYNC_LOG_LEVEL ? options.logLevel : 'warn' });
  try {
    let n: number;
    try {
      n = outboxSelector ? await sync.replayOutbox(outboxSelector) : await sync.replay(eventSelector!);
    } catch (error) {
      // The embedded database is held by `clerk-sync serve`: ask it to queue them; its worker applies them.
      if ((error as { code?: string }).code !== 'database_in_use') throw error;
      const remote = await askServe<{ queued: number }>(options.dataDir, 'POST', '/replay', outboxSelector ? { outbox: outboxSelector } : { events: eventSelector });
      if (!remote) throw error;
      console.log(outboxSelector ? `Queued ${remote.queued} side effect${remote.queued === 1 ? '' : 's'} to be sent again.` : `Queued ${remote.queued} event${remote.queued === 1 ? '' : 's'} to be applied again.`);
      console.log('The running clerk-sync serve holds the embedded database; its worker picks them up now.');
      return 0;
    }
    console.log(outboxSelector ? `Queued ${n} side effect${n === 1 ? '' : 's'} to be sent again.` : `Queued ${n} event${n === 1 ? '' : 's'} to be applied again.`);
    if (!values.drain) {
      console.log('A running worker picks them up now; without one, run `clerk-sync drain` (or add --drain).');
      return 0;
    }
    const result = await sync.drain({ dispatch: true });
    const e = result.events;
    const o = result.outbox;
    console.log(`Events: ${e.applied} applied, ${e.stale} stale, ${e.ignored} ignored, ${e.failed} failed, ${e.dead} dead.`);
    if (o) console.log(`Side effects: ${o.sent} sent, ${o.failed} failed, ${o.dead} dead.`);
    return e.failed + e.dead + (o ? o.failed + o.dead : 0) > 0 ? 1 : 0;
  } finally {
    await sync.close();
  }
}

function usage(message: string): number {
  console.error(`clerk-sync replay: ${message}\n\n${help}`);
  return 2;
}

/** An ISO date, or a duration ago: 90s, 30m, 6h, 7d. Null (after printing why) when neither. */
export function parseTime(flag: string, text: string, now: number = Date.now()): Date | null {
  const ago = /^(\d+)(s|m|h|d)$/.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd']);
  const date = new Date(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(date.getTime())) return date;
  usage(`${flag} wants an ISO date (2025-06-01T12:00:00Z) or a duration ago (30m, 6h, 7d), got "${text}"`);
  return null;
}
