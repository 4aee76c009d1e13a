/** `clerk-sync reproject`: fill typed columns for rows projected before they existed. */
import { parseArgs } from 'node:util';
import { createClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';
import { createProgress, type Progress } from '../progress.js';
import { invalidOption } from '../usage.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Recomputes typed columns from the data each row holds (after an upgrade), resumably.';

export const help = `Usage: clerk-sync reproject [--restart] [--batch-size N] [--json]

Recomputes the typed columns of every projected row from the data the row already holds (its
\`raw\` column), table by table. Run it once after an upgrade that adds columns (the release notes
say so): rows written before the upgrade get the new columns without waiting for their next event
or a backfill. It asks nothing of Clerk's API, never overwrites a newer event, and may run while
webhooks arrive. Where it stands is kept in the database (clerk.reproject_state): after a crash or
^C the same command continues; after a finished run it starts over.

  --restart          start over even when an earlier run did not finish
  --batch-size N     rows per transaction, 1 to 5000 (default 500)
  --json             print the result as JSON

Exit codes: 0 done, 1 the database could not be used, 2 bad usage.`;

export async function run(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { restart: { type: 'boolean' }, 'batch-size': { type: 'string' }, json: { type: 'boolean' } } });
  const batchText = values['batch-size'];
  if (batchText !== undefined && (!/^\d+$/.test(batchText) || Number(batchText) < 1 || Number(batchText) > 5000)) {
    throw invalidOption(`--batch-size must be a whole number from 1 to 5000, got "${batchText}"`);
  }
  const sync = createClerkSync({ ...baseOptions(env), logLevel: env.CLERK_SYNC_LOG_LEVEL ? baseOptions(env).logLevel : 'warn' });
  let current: { table: string; bar: Progress } | undefined;
  try {
    const result = await sync.reproject({
      restart: values.restart === true,
      ...(batchText === undefined ? {} : { batchSize: Number(batchText) }),
      onProgress: values.json
        ? undefined
        : (p) => {
            if (current?.table !== p.table) {
              current?.bar.done();
              current = { table: p.table, bar: createProgress({ label: p.table, total: p.total, start: p.done }) };
            }
            current.bar.set(p.done);
          },
    });
    current?.bar.done();
    if (values.json) console.log(JSON.stringify(result));
    else {
      const rows = result.tables.reduce((n, t) => n + t.rows, 0);
      const updated = result.tables.reduce((n, t) => n + t.updated, 0);
      console.log(`Reprojected ${rows} rows in ${result.tables.length} tables (${updated} updated by this run${result.resumed ? ', continuing an earlier run' : ''}).`);
    }
    return 0;
  } finally {
    await sync.close();
  }
}
