/** `clerk-sync migrate`: apply pending migrations and exit. */
import { createClerkSync } from '../../service/clerk-sync.js';
import { baseOptions, type Env } from '../env.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Applies pending database migrations and exits.';

export const help = `Usage: clerk-sync migrate

Applies pending database migrations (under an advisory lock, so it is safe while other
instances start) and exits. Uses DATABASE_URL, or the embedded database in CLERK_SYNC_DATA_DIR.

Exit codes: 0 applied or nothing to do, 1 failed.`;

export async function run(_args: string[], env: Env): Promise<number> {
  const sync = createClerkSync({ ...baseOptions(env), autoMigrate: false, logLevel: 'warn' });
  try {
    const result = await sync.migrate();
    console.log(result.applied.length ? `Applied ${result.applied.join(', ')}` : 'Nothing to apply: the database is up to date');
    return 0;
  } finally {
    await sync.close();
  }
}
