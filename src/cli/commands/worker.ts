/** `clerk-sync worker`: the apply worker and the outbox dispatcher, without the HTTP receiver. */
import { parseArgs } from 'node:util';
import { ClerkSyncError } from '../../core/errors.js';
import type { RunningWorker } from '../../apply/runner.js';
import { createClerkSync, type ClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';
import { invalidOption } from '../usage.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Applies stored events and sends side effects in the background, until stopped.';

export const help = `Usage: clerk-sync worker [--concurrency N] [--batch-size N] [--no-dispatch] [--no-apply]

Applies stored events to the tables and sends side effects, in the background, until stopped.

Run as many as you like, as processes or on other machines, against one DATABASE_URL: they share
the work through the database (FOR UPDATE SKIP LOCKED) and never apply an event twice. Each wakes
up on LISTEN/NOTIFY and also polls every CLERK_SYNC_POLL_INTERVAL_MS (1000), so a pooled
connection that drops notifications only adds latency. \`clerk-sync serve\` runs one too, so a
worker process is only needed to scale out or to keep the receiver small.

The embedded database (no DATABASE_URL) belongs to one process: with it, let \`serve\` run the
worker and do not start this command next to it.

  --concurrency N   claim-and-apply loops in this process (default $CLERK_SYNC_WORKER_CONCURRENCY or 2)
  --batch-size N    events per claim and per transaction (default $CLERK_SYNC_WORKER_BATCH_SIZE or 500)
  --no-dispatch     apply only; another process sends side effects
  --no-apply        send side effects only; another process applies events

SIGTERM or SIGINT: stop claiming, finish the batch under way (10 s at most), hand back what was
claimed and not applied, close the database, exit 0.

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed to start, 2 bad usage.`;

export interface StartedWorker {
  sync: ClerkSync;
  running: RunningWorker;
  stop(): Promise<void>;
}

export async function start(args: string[], env: Env, print: (line: string) => void = console.log): Promise<StartedWorker> {
  const { values } = parseArgs({
    args,
    options: {
      concurrency: { type: 'string' },
      'batch-size': { type: 'string' },
      'no-dispatch': { type: 'boolean' },
      'no-apply': { type: 'boolean' },
    },
  });
  const options = baseOptions(env);
  const worker = { ...(options.worker ?? {}) };
  if (values.concurrency !== undefined) worker.concurrency = wholeNumber('--concurrency', values.concurrency);
  if (values['batch-size'] !== undefined) worker.batchSize = wholeNumber('--batch-size', values['batch-size']);
  if (values['no-dispatch'] && values['no-apply']) throw new ClerkSyncError('invalid_config', '--no-dispatch and --no-apply together leave nothing to do');
  const sync = createClerkSync({ ...options, worker });
  await sync.db();
  const running = await sync.startWorker({ apply: !values['no-apply'], dispatch: !values['no-dispatch'] });
  const database = options.databaseUrl ? 'DATABASE_URL' : `embedded PGlite in ${options.dataDir}`;
  print(`clerk-sync worker running (database: ${database}; ${values['no-apply'] ? 'sending only' : values['no-dispatch'] ? 'applying only' : 'applying and sending'})`);
  return {
    sync,
    running,
    async stop() {
      await running.stop();
      await sync.close();
    },
  };
}

export async function run(args: string[], env: Env): Promise<number> {
  const started = await start(args, env);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  // Bounded: the worker gives the batch under way shutdownTimeoutMs; past this, exit anyway
  // (whatever was claimed comes back to another worker after its lease).
  const timer = setTimeout(() => process.exit(0), started.sync.config.worker.shutdownTimeoutMs + 5000);
  timer.unref();
  await started.stop();
  return 0;
}

export function wholeNumber(flag: string, text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw invalidOption(`${flag} must be a positive whole number, got "${text}"`);
  return Number(text);
}
