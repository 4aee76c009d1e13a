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

type Command = { summary: string; help: string; run(args: string[], env: Readonly<Record<string, string | undefined>>): Promise<number> };

export const commands: Record<string, Command> = { serve, worker, drain, replay, migrate, send, status, doctor, backfill, reconcile };

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
    if (error instanceof ClerkSyncError) console.error(`clerk-sync ${name}: ${error.message}`);
    else if ((error as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') console.error(`clerk-sync ${name}: ${(error as Error).message}\n\n${command.help}`);
    else console.error(`clerk-sync ${name} failed:`, error);
    return (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
}
