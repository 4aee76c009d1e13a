/** `clerk-sync serve`: the standalone receiver (and, when present, worker and admin). */
import { parseArgs } from 'node:util';
import type { Server } from 'node:http';
import type { RunningWorker } from '../../apply/runner.js';
import { ClerkSyncError } from '../../core/errors.js';
import { createClerkSync, type ClerkSync } from '../../service/clerk-sync.js';
import { startControlServer } from '../../server/control.js';
import { createStandaloneServer, webRoute } from '../../server/standalone.js';
import { baseOptions, devSecretPath, isProduction, loadOrCreateDevSecret, SECRET_HELP, type Env } from '../env.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Runs the webhook receiver with its worker, /healthz, /readyz, /metrics and the admin page.';

export const help = `Usage: clerk-sync serve [--port N] [--host H] [--production] [--no-worker]

Runs the webhook receiver: POST /webhooks/clerk (and /api/webhooks/clerk), GET /healthz,
GET /readyz, GET /metrics (Prometheus), and /admin when CLERK_SYNC_ADMIN_TOKEN is set.
Applies migrations at start under an advisory lock. Also runs the worker that applies stored
events and sends side effects (see \`clerk-sync worker --help\`), unless --no-worker.

Without DATABASE_URL it uses the embedded database in CLERK_SYNC_DATA_DIR (./.clerk-sync).
Without CLERK_WEBHOOK_SIGNING_SECRET it runs in dev mode: a local secret is generated and kept
in the data folder. In production (NODE_ENV=production or --production) a secret is required.

  --port N       listen port (default $PORT or 3000)
  --host H       listen address (default $HOST or 0.0.0.0)
  --production   refuse to start without a configured secret
  --no-worker    receive and store only; \`clerk-sync worker\` processes (or inline mode) apply

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed to start.`;

export interface Running {
  sync: ClerkSync;
  server: Server;
  port: number;
  worker: RunningWorker | undefined;
  stop(): Promise<void>;
}

export async function start(args: string[], env: Env, print: (line: string) => void = console.log): Promise<Running> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' }, production: { type: 'boolean' }, 'no-worker': { type: 'boolean' } } });
  const options = baseOptions(env);
  const portText = values.port ?? env.PORT ?? '3000';
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new ClerkSyncError('invalid_config', `Invalid port "${portText}"`);
  if (options.secret === undefined) {
    if (isProduction(env, values.production)) {
      throw new ClerkSyncError('secret_not_configured', `Refusing to start in production without a webhook signing secret. ${SECRET_HELP}`);
    }
    const dev = loadOrCreateDevSecret(options.dataDir);
    options.secret = dev.secret;
    print(`Dev mode: no CLERK_WEBHOOK_SIGNING_SECRET set, ${dev.created ? 'generated' : 'using'} a local secret (kept in ${devSecretPath(options.dataDir)}):`);
    print(`  ${dev.secret}`);
  }
  const sync = createClerkSync(options);
  await sync.migrate();
  sync.metrics.collectProcessMetrics();
  const routes = [webRoute('/metrics', sync.handleMetrics)];
  if (sync.config.adminToken) routes.push(webRoute('/admin', sync.handleAdmin));
  const server = createStandaloneServer(sync, { routes });
  const host = values.host ?? env.HOST ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portText), host, () => resolve());
  });
  const worker = values['no-worker'] ? undefined : await sync.startWorker();
  // The embedded database serves this process only: `status` and `replay` in another terminal ask here.
  const control = options.databaseUrl || options.db ? undefined : await startControlServer(sync, options.dataDir);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : Number(portText);
  const database = options.databaseUrl ? 'DATABASE_URL' : `embedded PGlite in ${options.dataDir}`;
  const devMode = env.CLERK_WEBHOOK_SIGNING_SECRET === undefined && env.CLERK_WEBHOOK_SECRET === undefined;
  // One write, so whoever watches for "listening" also has the send command.
  print(
    `clerk-sync listening on http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/webhooks/clerk (database: ${database})` +
      (sync.config.adminToken ? `\nAdmin: http://127.0.0.1:${port}/admin` : '') +
      (devMode ? `\nSend it a signed test event:  npx clerk-sync send user.created --url http://127.0.0.1:${port}/webhooks/clerk` : ''),
  );
  return {
    sync,
    server,
    port,
    worker,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      if (control) await new Promise<void>((resolve) => control.close(() => resolve()));
      await sync.close();
    },
  };
}

export async function run(args: string[], env: Env): Promise<number> {
  const running = await start(args, env);
  await new Promise<void>((resolve) => {
    const shutdown = () => resolve();
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
  // Bounded shutdown: stop accepting, finish in-flight requests and the batch under way (the
  // worker's own bound), close the database.
  const timer = setTimeout(() => process.exit(0), running.sync.config.worker.shutdownTimeoutMs + 5000);
  timer.unref();
  await running.stop();
  return 0;
}
