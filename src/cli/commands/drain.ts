/** `clerk-sync drain`: apply everything due now, send everything due now, exit. */
import { parseArgs } from 'node:util';
import { createClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Applies every due event, sends every due side effect, and exits.';

export const help = `Usage: clerk-sync drain [--no-dispatch] [--json]

Applies every stored event that is due, sends every side effect that is due, and exits.

For inline mode (serverless, no worker): run it from a cron job or after a deploy to pick up
events whose inline apply failed. It works on what is stored when it starts; events that fail
again are scheduled with backoff as usual, and are reported.

  --no-dispatch   apply only; leave side effects to a worker
  --json          print the counts as JSON

Exit codes: 0 everything due was applied (and sent), 1 some events or side effects failed or are
dead (see \`clerk-sync replay --help\`), or the database could not be used, 2 bad usage.`;

export async function run(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { 'no-dispatch': { type: 'boolean' }, json: { type: 'boolean' } } });
  const sync = createClerkSync({ ...baseOptions(env), logLevel: env.CLERK_SYNC_LOG_LEVEL ? baseOptions(env).logLevel : 'warn' });
  try {
    const result = await sync.drain({ dispatch: !values['no-dispatch'] });
    const e = result.events;
    const o = result.outbox;
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`Events: ${e.applied} applied, ${e.stale} stale, ${e.ignored} ignored, ${e.failed} failed (will retry), ${e.dead} dead; ${e.waiting} still waiting.`);
      console.log(o ? `Side effects: ${o.sent} sent, ${o.failed} failed (will retry), ${o.dead} dead.` : 'Side effects: no sender configured here; none sent.');
    }
    return e.failed + e.dead + (o ? o.failed + o.dead : 0) > 0 ? 1 : 0;
  } finally {
    await sync.close();
  }
}
