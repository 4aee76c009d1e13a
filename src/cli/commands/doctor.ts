/** `clerk-sync doctor`: check the set-up end to end and say what to fix. */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createClerkApi } from '../../backfill/index.js';
import { resolveConfig, type ClerkSyncOptions } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { isDatabaseUnavailable } from '../../core/db.js';
import { quoteIdentifier } from '../../db/identifiers.js';
import { migrations } from '../../db/generated/migrations.js';
import { pendingMigrations } from '../../db/migrate.js';
import { createClerkSync } from '../../service/clerk-sync.js';
import { parseSigningSecrets, signedHeaders } from '../../verify/index.js';
import { baseOptions, devSecretPath, SECRET_HELP, type Env } from '../env.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Checks secret, database, migrations, clock, Clerk API key and endpoint, and says what to fix.';

export const help = `Usage: clerk-sync doctor [--url URL] [--timeout MS]

Checks secret, database, migrations, clock, Clerk API key and endpoint, and says what to fix.

Checks the webhook secret's format, that the database answers, its migrations, this machine's
clock against the database's, Clerk's API key (when CLERK_SECRET_KEY is set), and with --url
that your endpoint accepts a signed test event and refuses a badly signed one.

  --url URL      the webhook endpoint to test, e.g. https://example.com/api/webhooks/clerk.
                 It receives one event of type clerk_sync.doctor, which is stored and ignored.
  --timeout MS   how long each check may take (default 5000)

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad usage.`;

type Outcome = 'ok' | 'warn' | 'fail' | 'skip';
interface Check {
  name: string;
  outcome: Outcome;
  detail: string;
  fix?: string;
}

const MARK: Record<Outcome, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function secretCheck(options: ClerkSyncOptions & { dataDir: string }): { check: Check; secret?: string } {
  const configured = typeof options.secret === 'string' ? options.secret : Array.isArray(options.secret) ? options.secret.join(' ') : undefined;
  if (configured === undefined) {
    const dev = devSecretPath(options.dataDir);
    if (existsSync(dev)) {
      const secret = readFileSync(dev, 'utf8').trim();
      return {
        secret,
        check: { name: 'webhook secret', outcome: 'warn', detail: `not set; dev mode's local secret in ${dev} is used`, fix: `fine locally; in production ${SECRET_HELP}` },
      };
    }
    return { check: { name: 'webhook secret', outcome: 'fail', detail: 'CLERK_WEBHOOK_SIGNING_SECRET is not set', fix: SECRET_HELP } };
  }
  try {
    const keys = parseSigningSecrets(configured);
    return {
      secret: configured.split(/[\s,]+/).find(Boolean),
      check: { name: 'webhook secret', outcome: 'ok', detail: `${keys.length} secret${keys.length > 1 ? 's' : ''} (fingerprint ${keys.map((k) => k.fingerprint).join(', ')})` },
    };
  } catch (error) {
    return { check: { name: 'webhook secret', outcome: 'fail', detail: (error as Error).message, fix: SECRET_HELP } };
  }
}

async function databaseChecks(db: Db, schema: string, timeoutMs: number, toleranceSeconds: number): Promise<Check[]> {
  const checks: Check[] = [];
  const t0 = Date.now();
  let dbNow: number;
  try {
    const r = await withTimeout(db.query<{ now: Date }>('select now() as now'), timeoutMs, 'the database');
    dbNow = new Date(r.rows[0]!.now).getTime();
  } catch (error) {
    checks.push({
      name: 'database',
      outcome: 'fail',
      detail: `${isDatabaseUnavailable(error) ? 'unreachable' : 'error'}: ${(error as Error).message}`,
      fix: 'check DATABASE_URL (host, port, password, sslmode=require for Neon) and that the database accepts connections from here',
    });
    return checks;
  }
  const t1 = Date.now();
  checks.push({ name: 'database', outcome: 'ok', detail: `answers in ${t1 - t0} ms (${db.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})` });

  try {
    const pending = await pendingMigrations(db, { schema });
    const q = quoteIdentifier(schema);
    const exists = (await db.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [`${q}.schema_migrations`])).rows[0]?.ok;
    const applied = exists ? (await db.query<{ id: number }>(`select id from ${q}.schema_migrations`)).rows.map((r) => Number(r.id)) : [];
    const unknown = applied.filter((id) => !migrations.some((m) => m.id === id));
    if (unknown.length > 0) {
      checks.push({ name: 'migrations', outcome: 'fail', detail: `the database has migration(s) ${unknown.join(', ')} this version does not know`, fix: 'upgrade clerk-sync to the version that migrated this database' });
    } else if (pending.length > 0) {
      checks.push({ name: 'migrations', outcome: 'fail', detail: `${pending.length} pending: ${pending.join(', ')}`, fix: 'run `clerk-sync migrate` (serve also migrates at start)' });
    } else {
      checks.push({ name: 'migrations', outcome: 'ok', detail: `${migrations.length} applied, schema "${schema}"` });
    }
  } catch (error) {
    checks.push({ name: 'migrations', outcome: 'fail', detail: (error as Error).message, fix: 'run `clerk-sync migrate`' });
  }

  // The query ran somewhere between t0 and t1: compare with the midpoint.
  const skewSeconds = (dbNow - (t0 + t1) / 2) / 1000;
  const abs = Math.abs(skewSeconds);
  const detail = `this machine is ${abs < 0.5 ? 'in step with' : `${abs.toFixed(1)} s ${skewSeconds > 0 ? 'behind' : 'ahead of'}`} the database`;
  if (abs > toleranceSeconds / 2) {
    checks.push({ name: 'clock', outcome: 'fail', detail, fix: `webhooks are refused when the clock is off by more than ${toleranceSeconds} s: enable NTP (timedatectl set-ntp true) on this machine or the database host` });
  } else if (abs > 5) {
    checks.push({ name: 'clock', outcome: 'warn', detail, fix: 'enable NTP on this machine or the database host' });
  } else {
    checks.push({ name: 'clock', outcome: 'ok', detail });
  }
  return checks;
}

async function endpointCheck(url: string, secret: string | undefined, timeoutMs: number): Promise<Check> {
  if (!secret) return { name: 'endpoint', outcome: 'skip', detail: 'no secret to sign a test event with' };
  const id = `msg_doctor_${randomBytes(12).toString('hex')}`;
  const body = JSON.stringify({ type: 'clerk_sync.doctor', object: 'event', timestamp: Date.now(), data: { id: `doctor_${id.slice(11)}`, object: 'doctor' } });
  const timestamp = Math.floor(Date.now() / 1000);
  const post = (headers: Record<string, string>) => withTimeout(fetch(url, { method: 'POST', headers, body, redirect: 'manual' }), timeoutMs, url);
  let good: Response;
  try {
    good = await post(signedHeaders({ id, timestamp, body, secret }));
  } catch (error) {
    return { name: 'endpoint', outcome: 'fail', detail: `${url}: ${(error as Error).message}${(error as { cause?: { code?: string } }).cause?.code ? ` (${(error as { cause: { code: string } }).cause.code})` : ''}`, fix: 'is the server running and reachable from here (clerk-sync serve, your app)?' };
  }
  const text = await good.text();
  if (good.status !== 200) {
    const code = /"code":"([a-z_]+)"/.exec(text)?.[1];
    const fix =
      code === 'invalid_signature'
        ? 'the endpoint has another signing secret than this machine: use the same CLERK_WEBHOOK_SIGNING_SECRET on both'
        : code === 'timestamp_too_old' || code === 'timestamp_too_new'
          ? "the endpoint's clock is off: enable NTP there"
          : good.status === 404 || good.status === 405
            ? 'wrong path? clerk-sync answers on /webhooks/clerk and /api/webhooks/clerk'
            : good.status >= 300 && good.status < 400
              ? `the endpoint redirects (to ${good.headers.get('location')}): Svix does not follow redirects; use the final URL`
              : 'see the endpoint\'s logs';
    return { name: 'endpoint', outcome: 'fail', detail: `a signed test event got ${good.status}${code ? ` ${code}` : ''}`, fix };
  }
  const wrong = signedHeaders({ id: `${id}_bad`, timestamp, body, secret: `whsec_${randomBytes(24).toString('base64')}` });
  try {
    const bad = await post(wrong);
    await bad.text();
    if (bad.status !== 400) return { name: 'endpoint', outcome: 'fail', detail: `accepted the test event, but a wrongly signed one got ${bad.status} instead of 400`, fix: 'the endpoint does not verify signatures: anyone could write to your tables. Route it to clerk-sync\'s handler' };
  } catch (error) {
    return { name: 'endpoint', outcome: 'warn', detail: `accepted the test event; the wrongly signed one failed: ${(error as Error).message}` };
  }
  return { name: 'endpoint', outcome: 'ok', detail: `${url} stored a signed test event (${id}) and refused a wrongly signed one` };
}

/** The embedded database's folder holds every payload (emails, one-time codes in the WAL): its owner only. */
function dataFolderCheck(dataDir: string): Check {
  let mode: number;
  try {
    mode = statSync(dataDir).mode & 0o777;
  } catch {
    return { name: 'data folder', outcome: 'skip', detail: `${dataDir} does not exist yet (created 0700 on first start)` };
  }
  if (mode & 0o077) {
    return { name: 'data folder', outcome: 'warn', detail: `${dataDir} is ${mode.toString(8).padStart(4, '0')}: other local users can read the embedded database`, fix: `chmod 700 ${dataDir} (clerk-sync does so when it opens it)` };
  }
  return { name: 'data folder', outcome: 'ok', detail: `${dataDir} is 0700` };
}

async function clerkApiCheck(options: ClerkSyncOptions, timeoutMs: number): Promise<Check> {
  const key = options.clerkSecretKey;
  if (!key) return { name: 'Clerk API key', outcome: 'skip', detail: 'CLERK_SECRET_KEY not set (needed only for backfill, reconcile and ensureUser)' };
  if (!/^sk_(test|live)_\S+$/.test(key)) {
    return { name: 'Clerk API key', outcome: 'fail', detail: 'CLERK_SECRET_KEY does not look like a Clerk secret key (sk_test_… or sk_live_…)', fix: key.startsWith('whsec_') ? 'that is a webhook signing secret: it belongs in CLERK_WEBHOOK_SIGNING_SECRET' : 'copy it from Clerk Dashboard → Configure → API keys' };
  }
  try {
    const api = createClerkApi({ secretKey: key, apiUrl: options.clerkApiUrl, requestsPerSecond: Infinity, maxAttempts: 1, maxRateLimited: 0 });
    const users = await withTimeout(api.count('users.count', '/users/count'), timeoutMs, 'the Backend API');
    return { name: 'Clerk API key', outcome: 'ok', detail: `${key.startsWith('sk_live_') ? 'production' : 'development'} instance, ${users} users` };
  } catch (error) {
    const status = (error as { status?: number }).status;
    return { name: 'Clerk API key', outcome: 'fail', detail: (error as Error).message, fix: status === 401 || status === 403 ? 'the key was refused: copy the current one from Clerk Dashboard → Configure → API keys' : 'check CLERK_API_URL and the network' };
  }
}

export async function run(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: 'string' }, timeout: { type: 'string' } } });
  const timeoutText = values.timeout ?? '5000';
  if (!/^\d+$/.test(timeoutText)) {
    console.error(`--timeout must be a whole number of milliseconds, got "${timeoutText}"`);
    return 2;
  }
  const timeoutMs = Number(timeoutText);
  const checks: Check[] = [];
  const options = baseOptions(env);
  try {
    resolveConfig({ ...options, secret: undefined });
    checks.push({ name: 'configuration', outcome: 'ok', detail: 'the environment variables are valid' });
  } catch (error) {
    checks.push({ name: 'configuration', outcome: 'fail', detail: (error as Error).message, fix: 'see docs/reference/configuration.md' });
  }
  const secret = secretCheck(options);
  checks.push(secret.check);
  if (!options.databaseUrl) checks.push(dataFolderCheck(options.dataDir));

  let sync: ReturnType<typeof createClerkSync> | undefined;
  try {
    sync = createClerkSync({ ...options, secret: undefined, autoMigrate: false, logger: false, adminToken: undefined });
    const db = await withTimeout(sync.db(), timeoutMs, 'the database');
    checks.push(...(await databaseChecks(db, sync.config.schema, timeoutMs, sync.config.toleranceSeconds)));
  } catch (error) {
    checks.push({ name: 'database', outcome: 'fail', detail: (error as Error).message, fix: 'check DATABASE_URL, or CLERK_SYNC_DATA_DIR for the embedded database' });
  } finally {
    await sync?.close().catch(() => {});
  }
  checks.push(await clerkApiCheck(options, timeoutMs));
  checks.push(values.url ? await endpointCheck(values.url, secret.secret, timeoutMs) : { name: 'endpoint', outcome: 'skip', detail: 'pass --url https://…/api/webhooks/clerk to send your endpoint a signed test event' });

  for (const c of checks) {
    console.log(`${MARK[c.outcome]} ${c.name.padEnd(15)} ${c.detail}`);
    if (c.fix && c.outcome !== 'ok') console.log(`  ${' '.repeat(15)} fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.outcome === 'fail').length;
  const warned = checks.filter((c) => c.outcome === 'warn').length;
  console.log(failed ? `\n${failed} check(s) failed.` : warned ? '\nAll checks passed, with warnings.' : '\nAll checks passed.');
  return failed ? 1 : 0;
}
