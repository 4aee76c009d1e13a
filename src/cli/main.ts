/** The `clerk-sync` command: one subcommand per job, `--help` on each. */
import { ClerkSyncError } from '../core/errors.js';
import * as migrate from './commands/migrate.js';
import * as send from './commands/send.js';
import * as serve from './commands/serve.js';
import * as status from './commands/status.js';
import * as doctor from './commands/doctor.js';
import * as backfill from './commands/backfill.js';
import * as reconcile from './commands/reconcile.js';
import * as worker from './commands/worker.js';
import * as drain from './commands/drain.js';
import * as replay from './commands/replay.js';
import * as reproject from './commands/reproject.js';
import * as prune from './commands/prune.js';

type Command = { summary: string; help: string; run(args: string[], env: Readonly<Record<string, string | undefined>>): Promise<number> };

export const commands: Record<string, Command> = { serve, worker, drain, replay, migrate, send, status, doctor, backfill, reconcile, reproject, prune };

const usage = `Usage: clerk-sync <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`clerk-sync <command> --help\` for a command's options and exit codes.`;

export async function main(argv: string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${usage}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(args, env);
  } catch (error) {
    const known = knownFailure(error);
    const code = (error as { code?: unknown } | null)?.code;
    const badUsage = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
    if (error instanceof ClerkSyncError) console.error(`clerk-sync ${name}: ${error.message}`);
    else if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') console.error(`clerk-sync ${name}: ${(error as Error).message}\n\n${command.help}`);
    // A bad option value: the message names the option and what it takes; no stack trace.
    else if (badUsage) console.error(`clerk-sync ${name}: ${(error as Error).message}`);
    else if (known) console.error(`clerk-sync ${name}: ${known}`);
    else console.error(`clerk-sync ${name} failed:`, error);
    return badUsage ? 2 : 1;
  }
}

/** One line that says what to fix, for the failures an operator meets first (no stack trace). */
export function knownFailure(error: unknown): string | undefined {
  const e = error as { code?: unknown; address?: unknown; port?: unknown; hostname?: unknown; errors?: unknown[] } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const where = [e?.address ?? e?.hostname, e?.port].filter((x) => x !== undefined && x !== '').join(':');
  switch (code) {
    case 'EADDRINUSE':
      return `the port${where ? ` ${where}` : ''} is already in use: stop what listens there, or choose another with --port (or PORT)`;
    case 'EACCES':
      return `not allowed to listen${where ? ` on ${where}` : ''}: ports below 1024 need privileges; choose another with --port (or PORT)`;
    case 'ECONNREFUSED':
      return `the database refused the connection${where ? ` (${where})` : ''}: is PostgreSQL running, and is DATABASE_URL's host and port right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the database host${typeof e?.hostname === 'string' ? ` "${e.hostname}"` : ''} was not found: check DATABASE_URL`;
    case '28P01':
    case '28000':
      return 'the database refused the user or password in DATABASE_URL';
    case '3D000':
      return 'the database named in DATABASE_URL does not exist: create it, or fix the name';
  }
  // pg reports a refused connection to every address of a host as an AggregateError.
  if (Array.isArray(e?.errors) && e.errors.length > 0) return knownFailure(e.errors[0]);
  return undefined;
}
