/** `clerk-sync doctor`: check the set-up end to end and say what to fix. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createClerkApi } from '../../backfill/index.js';
import { resolveConfig, type ClerkSyncOptions } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { isDatabaseUnavailable } from '../../core/db.js';
import { quoteIdentifier } from '../../db/identifiers.js';
import { migrations } from '../../db/generated/migrations.js';
import { pendingMigrations } from '../../db/migrate.js';
import { inboxEventState, type StoredEventState } from '../../inbox/enqueue.js';
import { askServe } from '../../server/control.js';
import { createClerkSync } from '../../service/clerk-sync.js';
import { parseSigningSecrets } from '../../verify/index.js';
import { baseOptions, devSecretPath, SECRET_HELP, type Env } from '../env.js';
import { sendSigned } from './send.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Checks secret, database, migrations, clock, Clerk API key and endpoint, and says what to fix.';

export const help = `Usage: clerk-sync doctor [--url URL] [--timeout MS]

Checks secret, database, migrations, clock, Clerk API key and endpoint, and says what to fix.

Checks the webhook secret's format, that the database answers, its migrations, this machine's
clock against the database's, Clerk's API key (when CLERK_SECRET_KEY is set), and with --url
that your endpoint answers, accepts a signed test event and refuses a badly signed one, and that
the event reached the inbox of the database configured here.

  --url URL      the webhook endpoint to test, e.g. https://example.com/api/webhooks/clerk or a
                 tunnel's https://<tunnel-host>/webhooks/clerk. It receives one event of type
                 clerk_sync.doctor, signed with CLERK_WEBHOOK_SIGNING_SECRET (or dev mode's
                 secret), which is stored and ignored (no table changes, no email).
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

/** Reads one event of the inbox; throws when the inbox cannot be read. */
type InboxReader = (id: string) => Promise<StoredEventState | null>;

/** How long a stored test event may take to show: the inbox commits before the 200, but a DATABASE_URL on a read replica lags. */
const INBOX_WAIT_MS = 10_000;

/** The URL as shown in the report: credentials and the query string may carry secrets. */
function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function errorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function unreachable(error: unknown, timeoutMs: number): { detail: string; fix: string } {
  if ((error as Error).name === 'TimeoutError') {
    return { detail: `no answer within ${timeoutMs} ms`, fix: 'is the tunnel up and the server behind it running? A slow first answer (cold start): raise --timeout' };
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.message ?? (error as Error).message;
  if (cause?.code === 'ECONNREFUSED') return { detail, fix: 'nothing listens there: start `clerk-sync serve` (or your app), on the port in the URL' };
  if (cause?.code === 'ENOTFOUND') return { detail, fix: "the host name does not resolve: a tunnel's host changes when the tunnel restarts; use the current one" };
  return { detail, fix: 'is the server running and reachable from here (clerk-sync serve, your app, the tunnel)?' };
}

function refusedFix(status: number, code: string | undefined, location: string | null): string {
  if (code === 'invalid_signature') return 'the endpoint has another signing secret than this machine: use the same CLERK_WEBHOOK_SIGNING_SECRET on both (the endpoint\'s Signing Secret in the Clerk Dashboard)';
  if (code === 'timestamp_too_old' || code === 'timestamp_too_new') return "the endpoint's clock is off: enable NTP there";
  if (code === 'secret_not_configured') return 'the endpoint has no signing secret: set CLERK_WEBHOOK_SIGNING_SECRET where it runs';
  if (code === 'database_unavailable') return 'the endpoint cannot reach its database: check DATABASE_URL where it runs';
  if (code === 'forbidden') return "the endpoint's CLERK_SYNC_ALLOW_NETWORKS does not include this machine's address";
  if (status >= 300 && status < 400) return `the endpoint redirects (to ${location ?? 'no Location given'}): Svix does not follow redirects; use the final URL, and keep the webhook route public in Clerk's middleware (no auth.protect() on it)`;
  if (status === 401 || status === 403) return "not clerk-sync's answer: something in front of the route asks for a session; keep the webhook route public in Clerk's middleware (no auth.protect() on it)";
  if (status === 404 || status === 405) return "wrong path, or a tunnel that restarted under another host: clerk-sync serve answers on /webhooks/clerk and /api/webhooks/clerk, a Next.js app where its route file is; Clerk's middleware also answers 404 when auth.protect() covers the route";
  if (status === 502 || status === 504) return 'the tunnel or proxy answered but cannot reach the server behind it: is clerk-sync serve (or your app) running on the port the tunnel forwards to?';
  return "see the endpoint's logs";
}

/**
 * `--url`: one step per line. The test event is of a type clerk-sync does not project, so it is
 * stored and marked ignored: no table changes and no side effects, wherever the endpoint is.
 */
async function endpointChecks(url: URL, secret: string | undefined, timeoutMs: number, inbox: InboxReader | string, schema: string): Promise<Check[]> {
  const shown = shownUrl(url);
  if (!secret) return [{ name: 'endpoint', outcome: 'skip', detail: 'no test event sent: there is no valid CLERK_WEBHOOK_SIGNING_SECRET to sign it with' }];
  const id = `msg_doctor_${randomBytes(12).toString('hex')}`;
  const body = JSON.stringify({ type: 'clerk_sync.doctor', object: 'event', timestamp: Date.now(), data: { id: `doctor_${id.slice(11)}`, object: 'doctor' } });
  const started = Date.now();
  let good: Awaited<ReturnType<typeof sendSigned>>;
  try {
    good = await sendSigned(url.href, body, secret, { id, timeoutMs, redirect: 'manual' });
  } catch (error) {
    const why = unreachable(error, timeoutMs);
    return [
      { name: 'endpoint', outcome: 'fail', detail: `${shown} is unreachable: ${why.detail}`, fix: why.fix },
      { name: 'signature', outcome: 'skip', detail: 'not tested: the endpoint did not answer' },
      { name: 'inbox', outcome: 'skip', detail: 'not checked: the endpoint did not answer' },
    ];
  }
  const checks: Check[] = [{ name: 'endpoint', outcome: 'ok', detail: `${shown} answered ${good.status} in ${Date.now() - started} ms` }];
  if (good.status < 200 || good.status >= 300) {
    const code = errorCode(good.text);
    checks.push({ name: 'signature', outcome: 'fail', detail: `the signed test event got ${good.status}${code ? ` ${code}` : good.status >= 400 ? " (not clerk-sync's answer)" : ''}`, fix: refusedFix(good.status, code, good.headers.get('location')) });
    checks.push({ name: 'inbox', outcome: 'skip', detail: 'not checked: the test event was refused' });
    return checks;
  }
  checks.push(await wrongSecretCheck(url, body, id, timeoutMs, good.status));
  checks.push(await inboxCheck(id, inbox, schema, timeoutMs));
  return checks;
}

async function wrongSecretCheck(url: URL, body: string, id: string, timeoutMs: number, goodStatus: number): Promise<Check> {
  const accepted = `the signed test event was accepted (${goodStatus})`;
  try {
    const bad = await sendSigned(url.href, body, `whsec_${randomBytes(24).toString('base64')}`, { id: `${id}_bad`, timeoutMs, redirect: 'manual' });
    const code = errorCode(bad.text);
    if (bad.status >= 200 && bad.status < 300) {
      return { name: 'signature', outcome: 'fail', detail: `${accepted}, but so was one signed with another secret (${bad.status})`, fix: "the endpoint does not verify signatures: anyone could write to your tables. Route it to clerk-sync's handler" };
    }
    return { name: 'signature', outcome: 'ok', detail: `${accepted}; one signed with another secret was refused (${bad.status}${code ? ` ${code}` : ''})` };
  } catch (error) {
    return { name: 'signature', outcome: 'warn', detail: `${accepted}; the one signed with another secret got no answer: ${unreachable(error, timeoutMs).detail}` };
  }
}

async function inboxCheck(id: string, inbox: InboxReader | string, schema: string, timeoutMs: number): Promise<Check> {
  const unconfirmed = (why: string): Check => ({ name: 'inbox', outcome: 'warn', detail: `the endpoint answered 2xx, but the delivery could not be confirmed: ${why}` });
  if (typeof inbox === 'string') return unconfirmed(inbox);
  const deadline = Date.now() + INBOX_WAIT_MS;
  for (;;) {
    let stored: StoredEventState | null;
    try {
      stored = await withTimeout(inbox(id), timeoutMs, 'the database');
    } catch (error) {
      return unconfirmed(`the inbox could not be read (${(error as Error).message})`);
    }
    if (stored) return { name: 'inbox', outcome: 'ok', detail: `${id} is in ${schema}.webhook_events (${stored.status})` };
    if (Date.now() >= deadline) break;
    await sleep(250);
  }
  return {
    name: 'inbox',
    outcome: 'fail',
    detail: `the endpoint answered 2xx, but ${id} is not in ${schema}.webhook_events of the database configured here after ${INBOX_WAIT_MS / 1000} s`,
    fix: 'the endpoint stores into another database: give it and this machine the same DATABASE_URL (or CLERK_SYNC_DATA_DIR), or check that the URL reaches the server you think it does',
  };
}

/**
 * PGlite serves one process: while `clerk-sync serve` holds the data folder, its control socket
 * answers for the database (decision 0010). Serve migrates before it listens, and shares this
 * machine's clock, so those checks have nothing to find.
 */
async function heldByServe(dataDir: string): Promise<{ checks: Check[]; inbox: InboxReader } | undefined> {
  const answered = await askServe(dataDir, 'GET', '/status').catch(() => undefined);
  if (!answered) return undefined;
  return {
    checks: [
      { name: 'database', outcome: 'ok', detail: `embedded PGlite in ${dataDir}, held by the running clerk-sync serve (asked over its control socket)` },
      { name: 'migrations', outcome: 'ok', detail: 'applied by clerk-sync serve at its start' },
    ],
    inbox: async (id) => {
      const answer = await askServe<{ event: StoredEventState | null }>(dataDir, 'GET', `/events/${encodeURIComponent(id)}`);
      if (!answer) throw new Error('clerk-sync serve stopped');
      return answer.event;
    },
  };
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
  let url: URL | undefined;
  if (values.url !== undefined) {
    url = URL.canParse(values.url) ? new URL(values.url) : undefined;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      console.error(`clerk-sync doctor: --url must be an http:// or https:// URL such as https://<tunnel-host>/webhooks/clerk, got "${values.url}"`);
      return 2;
    }
  }
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

  // The database stays open until the endpoint's test event has been looked up in it.
  let sync: ReturnType<typeof createClerkSync> | undefined;
  let inbox: InboxReader | string = 'the database check failed';
  try {
    try {
      sync = createClerkSync({ ...options, secret: undefined, autoMigrate: false, logger: false, adminToken: undefined });
      const db = await withTimeout(sync.db(), timeoutMs, 'the database');
      const found = await databaseChecks(db, sync.config.schema, timeoutMs, sync.config.toleranceSeconds);
      checks.push(...found);
      const schema = sync.config.schema;
      if (found[0]?.outcome === 'ok') inbox = (id) => inboxEventState(db, schema, id);
    } catch (error) {
      const held = (error as { code?: string }).code === 'database_in_use' ? await heldByServe(options.dataDir) : undefined;
      if (held) {
        checks.push(...held.checks);
        inbox = held.inbox;
      } else {
        checks.push({ name: 'database', outcome: 'fail', detail: (error as Error).message, fix: 'check DATABASE_URL, or CLERK_SYNC_DATA_DIR for the embedded database' });
      }
    }
    checks.push(await clerkApiCheck(options, timeoutMs));
    const schema = sync?.config.schema ?? 'clerk';
    checks.push(...(url ? await endpointChecks(url, secret.secret, timeoutMs, inbox, schema) : [{ name: 'endpoint', outcome: 'skip' as const, detail: 'pass --url https://…/api/webhooks/clerk to send your endpoint a signed test event' }]));
  } finally {
    await sync?.close().catch(() => {});
  }

  for (const c of checks) {
    console.log(`${MARK[c.outcome]} ${c.name.padEnd(15)} ${c.detail}`);
    if (c.fix && c.outcome !== 'ok') console.log(`  ${' '.repeat(15)} fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.outcome === 'fail').length;
  const warned = checks.filter((c) => c.outcome === 'warn').length;
  console.log(failed ? `\n${failed} check(s) failed.` : warned ? '\nAll checks passed, with warnings.' : '\nAll checks passed.');
  return failed ? 1 : 0;
}
