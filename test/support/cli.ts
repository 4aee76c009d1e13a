/** Runs the `clerk-sync` CLI from source as a child process, with clerk-sync's own variables
 * removed from the inherited environment so only what a test passes applies. Asynchronous, so
 * fake servers in the test process keep answering while the command runs. */
import { spawn } from 'node:child_process';

export const CLI = new URL('../../src/cli/index.ts', import.meta.url).pathname;
export const cwd = new URL('../..', import.meta.url).pathname;

const CLERK_SYNC_VARIABLES = ['DATABASE_URL', 'CLERK_SYNC_DATA_DIR', 'CLERK_SECRET_KEY', 'CLERK_API_URL', 'CLERK_WEBHOOK_SIGNING_SECRET', 'CLERK_SYNC_ADMIN_TOKEN', 'NODE_ENV'];

export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CLERK_SYNC_LOG_LEVEL: 'warn' };
  for (const name of CLERK_SYNC_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

export function runCli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd, env: cliEnv(env), timeout: 90_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
