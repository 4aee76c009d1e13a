/** `clerk-sync backfill`: copy what Clerk's Backend API has into the database, resumably. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileCursorStore, LISTINGS, parseListings, type BackfillProgress, type BackfillResult, type ListingName } from '../../backfill/index.js';
import { pino, type Logger } from 'pino';
import { REDACT_PATHS } from '../../core/logger.js';
import { createClerkSync, type ClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';
import { createProgress, type Progress } from '../progress.js';

export const help = `Usage: clerk-sync backfill [--only LIST] [--rate N] [--max-requests N] [--restart] [--no-apply]

Copies users, organizations, memberships, invitations, roles, permissions from Clerk's API.

Each organization comes with its memberships and invitations. It goes through the same rules as webhooks: it never overwrites newer webhook data, never brings
back a deleted entity, and fires no side effects (no welcome emails). Each entity becomes an inbox
event with source "backfill", visible in the admin page. Pages of up to 500; 429 answers are
retried after Retry-After. Resumable: after a crash, ^C or --max-requests, run the same command
again and it continues where it stopped. Needs CLERK_SECRET_KEY (CLERK_API_URL to use another
Backend API URL).

  --only LIST         comma-separated subset of: permissions, roles, users, organizations, invitations
  --rate N            Backend API requests per second (default $CLERK_SYNC_API_RATE or 10; Clerk
                      allows 100 per 10 s on development instances, 1000 on production ones)
  --max-requests N    stop after N requests (run again to continue)
  --page-size N       entities per request, 1 to 500 (default 500)
  --restart           forget a saved position and start from the beginning
  --no-apply          only store the events; a running worker applies them
  --state FILE        where the position is kept (default <CLERK_SYNC_DATA_DIR>/backfill-state.json)

Exit codes: 0 complete, 1 failed (the position is kept: run again to resume), 2 bad usage or no
CLERK_SECRET_KEY, 3 stopped at --max-requests (run again to continue), 130 interrupted by ^C
(run again to continue).`;

export const EXIT_INCOMPLETE = 3;
export const EXIT_INTERRUPTED = 130;

export interface RunFlags {
  only?: ListingName[];
  rate?: number;
  maxRequests?: number;
  pageSize?: number;
  apply: boolean;
}

const positiveInt = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw Object.assign(new Error(`--${name} must be a positive whole number, got "${value}"`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  return Number(value);
};

export function parseCommon(args: string[], extra: Record<string, { type: 'boolean' | 'string' }> = {}) {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: 'string' },
      rate: { type: 'string' },
      'max-requests': { type: 'string' },
      'page-size': { type: 'string' },
      'no-apply': { type: 'boolean' },
      ...extra,
    },
  });
  let only: ListingName[] | undefined;
  if (typeof values.only === 'string') {
    try {
      only = parseListings(values.only);
    } catch (error) {
      throw Object.assign(new Error((error as Error).message), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
    }
  }
  const pageSize = positiveInt('page-size', values['page-size'] as string | undefined);
  if (pageSize !== undefined && pageSize > 500) throw Object.assign(new Error('--page-size is at most 500 (Clerk\'s limit)'), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  const flags: RunFlags = {
    only,
    rate: positiveInt('rate', values.rate as string | undefined),
    maxRequests: positiveInt('max-requests', values['max-requests'] as string | undefined),
    pageSize,
    apply: values['no-apply'] !== true,
  };
  return { flags, values: values as Record<string, string | boolean | undefined> };
}

/** Warnings as short lines on stderr, not JSON: these commands are run by hand. */
export function cliLogger(level: string): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    {
      write(line: string) {
        const { level: n, msg, time: _t, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
        // On a terminal, clear the progress bar's line first; the bar redraws below.
        const clear = process.stderr.isTTY ? '\r\x1b[2K' : '';
        process.stderr.write(`${clear}${Number(n) >= 50 ? 'error' : Number(n) >= 40 ? 'warning' : 'info'}: ${String(msg)}${extra ? ` (${extra})` : ''}\n`);
      },
    },
  );
}

/** One progress line per listing, replaced as the run moves from one to the next. */
export function progressReporter(resume?: { resource: string; offset: number }): { onProgress(p: BackfillProgress): void; finish(): void } {
  let current: { resource: string; bar: Progress } | undefined;
  return {
    onProgress(p) {
      if (current?.resource !== p.resource) {
        current?.bar.done();
        const start = resume?.resource === p.resource ? resume.offset : 0;
        current = { resource: p.resource, bar: createProgress({ label: p.resource, total: p.total, start }) };
      }
      current.bar.setTotal(p.total);
      current.bar.set(p.done);
    },
    finish() {
      current?.bar.done();
      current = undefined;
    },
  };
}

export function describeCounts(result: BackfillResult): string[] {
  return Object.entries(result.counts).map(([resource, c]) => `  ${resource.padEnd(24)} ${String(c!.listed).padStart(8)} listed ${String(c!.stored).padStart(8)} new or changed`);
}

/** Applies what the run stored, with a progress line; returns a summary line. */
export async function applyStored(sync: ClerkSync, since: Date): Promise<string> {
  const bar = createProgress({ label: 'applying' });
  const counts = await sync.applyBackfilled({
    since,
    onProgress: (done, total) => {
      bar.setTotal(total);
      bar.set(done);
    },
  });
  if (counts.applied + counts.stale + counts.ignored + counts.failed + counts.dead > 0) {
    bar.done(`${counts.applied} applied, ${counts.stale} already up to date or newer, ${counts.failed + counts.dead} failed`);
  }
  return counts.failed + counts.dead > 0 ? 'Some events failed to apply: see `clerk-sync status` and the admin page (dead letters).' : '';
}

/** ^C stops between requests: the page in flight is stored and the position saved. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    console.error('\nStopping after the request in flight (^C again to quit at once)…');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Bad flags: the message and the usage line, exit 2. */
export function usageError(command: string, error: unknown, usage: string): number {
  console.error(`clerk-sync ${command}: ${(error as Error).message}\n\n${usage.split('\n')[0]}\nRun \`clerk-sync ${command} --help\` for the options.`);
  return 2;
}

export async function run(args: string[], env: Env): Promise<number> {
  let parsed: ReturnType<typeof parseCommon>;
  try {
    parsed = parseCommon(args, { restart: { type: 'boolean' }, state: { type: 'string' } });
  } catch (error) {
    return usageError('backfill', error, help);
  }
  const { flags, values } = parsed;
  const options = baseOptions(env);
  if (!options.clerkSecretKey) {
    console.error('clerk-sync backfill needs CLERK_SECRET_KEY: the secret key of your Clerk instance (Clerk Dashboard → Configure → API keys, it starts with sk_).');
    return 2;
  }
  const statePath = typeof values.state === 'string' ? values.state : join(options.dataDir, 'backfill-state.json');
  const cursor = fileCursorStore(statePath);
  if (values.restart) await cursor.clear();
  const sync = createClerkSync({ ...options, logger: cliLogger(options.logLevel ?? 'warn') });
  const interrupt = interruptSignal();
  const stored = await cursor.load();
  // A saved position of another selection (--only) is not resumed: the run starts over.
  const selection = LISTINGS.filter((n) => (flags.only ?? LISTINGS).includes(n));
  const saved = stored && JSON.stringify(stored.resources) === JSON.stringify(selection) ? stored : undefined;
  if (stored && !saved) console.log(`A saved position of a backfill of ${stored.resources.join(', ')} is replaced: this run covers ${selection.join(', ')}.`);
  const progress = progressReporter(saved ? { resource: saved.resources[saved.step] ?? '', offset: saved.offset } : undefined);
  const started = new Date();
  try {
    if (saved) console.log(`Resuming the backfill started ${saved.startedAt} (position kept in ${statePath}).`);
    let result: BackfillResult;
    try {
      result = await sync.backfill({
        resources: flags.only,
        cursor,
        pageSize: flags.pageSize,
        requestsPerSecond: flags.rate,
        maxRequests: flags.maxRequests,
        signal: interrupt.signal,
        onProgress: progress.onProgress,
      });
    } finally {
      progress.finish();
    }
    console.log(`Backfill ${result.complete ? 'complete' : 'stopped'} (${result.requests} Backend API requests):`);
    for (const line of describeCounts(result)) console.log(line);
    if (flags.apply && !interrupt.signal.aborted) {
      const warning = await applyStored(sync, started);
      if (warning) console.error(warning);
    }
    if (result.stopped === 'budget') {
      console.log(`Stopped at --max-requests ${flags.maxRequests}: run the same command again to continue.`);
      return EXIT_INCOMPLETE;
    }
    if (result.stopped === 'interrupted') {
      console.log('Interrupted: run the same command again to continue.');
      return EXIT_INTERRUPTED;
    }
    return 0;
  } catch (error) {
    console.error(`clerk-sync backfill failed: ${(error as Error).message}`);
    console.error(`The position is kept in ${statePath}: run the same command again to resume.`);
    return 1;
  } finally {
    interrupt.dispose();
    await sync.close();
  }
}
