/** `clerk-sync backfill`: copy what Clerk's Backend API has into the database, resumably. */
import { parseArgs } from 'node:util';
import { ClerkApiError, RESOURCE_NAMES, parseResources, type BackfillProgress, type BackfillResult, type ResourceName } from '../../backfill/index.js';
import { ClerkSyncError } from '../../core/errors.js';
import { pino, type Logger } from 'pino';
import { REDACT_PATHS } from '../../core/logger.js';
import { createClerkSync, type ClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';
import { createProgress, type Progress } from '../progress.js';
import { invalidOption } from '../usage.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Copies everything Clerk\'s Backend API lists into the database, resumably.';

export const help = `Usage: clerk-sync backfill [--only LIST] [--rate N] [--max-requests N] [--restart] [--no-apply]

Copies everything Clerk's Backend API lists into the database, resumably.

Lists permissions, roles, users, organizations, memberships, organization invitations and
domains, invitations (every status), waitlist entries and billing subscription items, 500 per
request. Each entity becomes an inbox event with source "backfill" (visible in the admin page)
that goes through the same rules as webhooks: it never overwrites newer webhook data, never
brings back a deleted entity, and fires no side effects (no welcome emails). 429 answers are
retried after Retry-After. Where the run stands is kept in the database (clerk.backfill_state):
after a crash, ^C or --max-requests, the same command on any machine continues it, and then
applies every stored event that is still pending. \`clerk-sync status\` shows its progress.
Needs CLERK_SECRET_KEY (CLERK_API_URL to use another Backend API URL).

  --only LIST         comma-separated subset of: ${RESOURCE_NAMES.join(', ')}
  --rate N            Backend API requests per second (default $CLERK_SYNC_API_RATE or 10; Clerk
                      allows 100 per 10 s on development instances, 1000 on production ones)
  --max-requests N    stop after N requests (run again to continue)
  --page-size N       entities per request, 1 to 500 (default 500)
  --restart           begin a new run instead of continuing the open one
  --no-apply          only store the events; a running worker applies them

Exit codes: 0 complete, 1 failed (the position is kept: run again to resume), 2 bad usage, no
CLERK_SECRET_KEY or a key Clerk refuses, 3 stopped at --max-requests (run again to continue), 4
another backfill is running, 130 interrupted by ^C (run again to continue).`;

export const EXIT_INCOMPLETE = 3;
export const EXIT_INTERRUPTED = 130;
export const EXIT_IN_PROGRESS = 4;

export interface RunFlags {
  only?: ResourceName[];
  rate?: number;
  maxRequests?: number;
  pageSize?: number;
  apply: boolean;
}

const positiveInt = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw invalidOption(`--${name} must be a positive whole number, got "${value}"`);
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
  let only: ResourceName[] | undefined;
  if (typeof values.only === 'string') {
    try {
      only = parseResources(values.only);
    } catch (error) {
      throw invalidOption((error as Error).message);
    }
  }
  const pageSize = positiveInt('page-size', values['page-size'] as string | undefined);
  if (pageSize !== undefined && pageSize > 500) throw invalidOption('--page-size is at most 500 (Clerk\'s limit)');
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
export function progressReporter(): { onProgress(p: BackfillProgress): void; finish(): void } {
  let current: { listing: string; bar: Progress } | undefined;
  return {
    onProgress(p) {
      if (current?.listing !== p.listing) {
        current?.bar.done();
        current = { listing: p.listing, bar: createProgress({ label: p.listing, total: p.total }) };
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

/** Applies every backfilled event still pending (this run's and any earlier run's), with a progress line; returns a warning or ''. */
export async function applyStored(sync: ClerkSync): Promise<string> {
  const bar = createProgress({ label: 'applying' });
  const counts = await sync.applyBackfilled({
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

/** What a failed run tells the user, and its exit code. */
export function describeFailure(command: string, error: unknown): { message: string; exit: number } {
  if (error instanceof ClerkApiError && (error.status === 401 || error.status === 403)) {
    return {
      message: `clerk-sync ${command}: Clerk refused CLERK_SECRET_KEY (${error.status} ${error.code}). Copy the secret key of the instance this database mirrors from Clerk Dashboard → Configure → API keys (it starts with sk_test_ or sk_live_).`,
      exit: 2,
    };
  }
  if (error instanceof ClerkSyncError && error.code === 'backfill_in_progress') return { message: `clerk-sync ${command}: ${error.message}`, exit: EXIT_IN_PROGRESS };
  return { message: `clerk-sync ${command} failed: ${(error as Error).message}`, exit: 1 };
}

export async function run(args: string[], env: Env): Promise<number> {
  let parsed: ReturnType<typeof parseCommon>;
  try {
    parsed = parseCommon(args, { restart: { type: 'boolean' } });
  } catch (error) {
    return usageError('backfill', error, help);
  }
  const { flags, values } = parsed;
  const options = baseOptions(env);
  if (!options.clerkSecretKey) {
    console.error('clerk-sync backfill needs CLERK_SECRET_KEY: the secret key of your Clerk instance (Clerk Dashboard → Configure → API keys, it starts with sk_).');
    return 2;
  }
  const sync = createClerkSync({ ...options, logger: cliLogger(options.logLevel ?? 'warn') });
  const interrupt = interruptSignal();
  const progress = progressReporter();
  let applyWarning = '';
  try {
    let result: BackfillResult;
    try {
      result = await sync.backfill({
        resources: flags.only,
        restart: values.restart === true,
        pageSize: flags.pageSize,
        requestsPerSecond: flags.rate,
        maxRequests: flags.maxRequests,
        signal: interrupt.signal,
        onProgress: progress.onProgress,
        // Each page is applied in the transaction that stores it; the pass below takes what is left.
        applyPages: flags.apply,
        // The run is complete only once its events are applied: a crash during the apply resumes into it.
        beforeFinish: flags.apply
          ? async () => {
              progress.finish();
              applyWarning = await applyStored(sync);
            }
          : undefined,
      });
    } finally {
      progress.finish();
    }
    if (result.resumed) console.log(`Resumed backfill ${result.runId}.`);
    console.log(`Backfill ${result.complete ? 'complete' : 'stopped'} (${result.requests} Backend API requests):`);
    for (const line of describeCounts(result)) console.log(line);
    if (result.perOrganization.length > 0) console.log(`Listed one organization at a time (the instance-wide listing answered 404): ${result.perOrganization.join(', ')}`);
    if (applyWarning) console.error(applyWarning);
    if (result.stopped === 'budget') {
      // What was stored is applied now; the listing goes on with the next run.
      if (flags.apply) {
        const warning = await applyStored(sync);
        if (warning) console.error(warning);
      }
      console.log(`Stopped at --max-requests ${flags.maxRequests}: run the same command again to continue.`);
      return EXIT_INCOMPLETE;
    }
    if (result.stopped === 'interrupted') {
      console.log('Interrupted: run the same command again to continue.');
      return EXIT_INTERRUPTED;
    }
    return 0;
  } catch (error) {
    const { message, exit } = describeFailure('backfill', error);
    console.error(message);
    if (exit === 1) console.error('The position is kept in the database: run the same command again to resume.');
    return exit;
  } finally {
    interrupt.dispose();
    await sync.close();
  }
}
