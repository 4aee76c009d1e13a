/**
 * Options of clerk-sync, validated once into a frozen ResolvedConfig. The mapping from
 * environment variables to options is the table in ./env.ts; nothing in the library reads
 * `process.env`: the CLI passes it to `optionsFromEnv`, and apps may do the same. The validators
 * are zod's spelling without zod (options-schema.ts says why).
 */
import { safeParse, z, type Input, type Output } from './options-schema.js';
import type { Logger } from 'pino';
import type { Db } from './db.js';
import type { Templates } from './sender.js';
import { ClerkSyncError } from './errors.js';

/** A century: beyond it "keep forever" (0) says what is meant, and the interval arithmetic stays in range. */
export const MAX_RETENTION_DAYS = 36_500;
const RETENTION_DAYS_RULE = `a whole number of days from 0 to ${MAX_RETENTION_DAYS}, or false to keep everything`;

const secretList = z.union([z.string(), z.array(z.string())]);

export const optionsSchema = z
  .object({
    /** One or more `whsec_` secrets (space/comma separated, or an array) for rotation. */
    secret: secretList.optional(),
    /** Postgres connection string (Neon included). Absent: embedded PGlite in `dataDir`. */
    databaseUrl: z.string().min(1).optional(),
    /** A `Db` you created yourself (takes precedence over databaseUrl/dataDir). */
    db: z.custom<Db>((v) => typeof v === 'object' && v !== null && 'query' in v && 'transaction' in v).optional(),
    /** PGlite data folder, also where dev mode keeps its generated secret. @default "./.clerk-sync" */
    dataDir: z.string().min(1).default('./.clerk-sync'),
    /** Postgres schema of all tables. @default "clerk" */
    schema: z.string().regex(/^[a-z_][a-z0-9_$]{0,62}$/, 'lowercase letters, digits and underscores').default('clerk'),
    /** `worker`: apply in the background; `inline`: apply in the request after the inbox commit. @default "worker" */
    mode: z.enum(['worker', 'inline']).default('worker'),
    /** `soft` keeps a deleted user's data; `scrub` erases personal fields. @default "soft" */
    deleteMode: z.enum(['soft', 'scrub']).default('soft'),
    /**
     * Applied, stale and ignored inbox events older than this many days are deleted, and side
     * effects sent that long ago lose their payload (decision 0005); dead letters and unsent side
     * effects are kept. 0 or false: keep everything forever. @default 30
     */
    retentionDays: z
      .union([z.number().int(RETENTION_DAYS_RULE).min(0, RETENTION_DAYS_RULE).max(MAX_RETENTION_DAYS, RETENTION_DAYS_RULE), z.literal(false)])
      .transform((v) => (v === false ? 0 : v))
      .default(30),
    /**
     * Also honour the grants in users.public_metadata (`role`, `permissions`, `organizationId`) in
     * `can()` for the metadata's organization; pass `{ metadataGrants: sync.config.metadataGrants }`
     * to can() (docs/projections.md). Off: metadata is writable by anything with your Clerk secret key.
     * @default false
     */
    metadataGrants: z.boolean().default(false),
    /** Largest accepted body. @default 1048576 */
    maxBodyBytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
    /** Allowed clock difference for the webhook timestamp, seconds. @default 300 */
    toleranceSeconds: z.number().int().positive().max(86400).default(300),
    /**
     * The longest one delivery waits for the database, from its arrival to its answer (the
     * group-commit queue, the transaction, its rollback); past it the answer is 503
     * `database_unavailable`, never a 2xx for a commit that may not have happened. @default 30000
     */
    deliveryTimeoutMs: z.number().int().positive().max(600_000).default(30_000),
    /** The longest `/readyz` (and `readiness()`) waits for the database before it says unreachable. @default 3000 */
    readyTimeoutMs: z.number().int().positive().max(600_000).default(3_000),
    /** Apply pending migrations on first use (under an advisory lock). @default true */
    autoMigrate: z.boolean().default(true),
    /** Pool size for `pg`. @default 10 */
    poolSize: z.number().int().positive().max(1000).default(10),
    /** Named prepared statements on `pg` (off for poolers without support, e.g. PgBouncer < 1.21). @default true */
    preparedStatements: z.boolean().default(true),
    /** Group commit: inbox writes in flight and deliveries per write; `apply`: apply at intake (docs/worker.md). */
    intake: z
      .object({
        maxInFlight: z.number().int().positive().default(6),
        maxBatch: z.number().int().positive().default(500),
        /** Apply new deliveries in the transaction that stores them, where this process applies events anyway (a worker runs here, or inline mode). @default true */
        apply: z.boolean().default(true),
      })
      .strict()
      .default({}),
    /** Clock in ms since the epoch (tests). @default Date.now */
    now: z.custom<() => number>((v) => typeof v === 'function').optional(),
    /** A pino logger, or false for silence. @default a pino logger at level "info" */
    logger: z.union([z.custom<Logger>((v) => typeof v === 'object' && v !== null && 'info' in v), z.literal(false)]).optional(),
    /** Log level when clerk-sync creates the logger. @default "info" */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Per-client-address limits of the webhook path (docs/hardening.md). */
    rateLimit: z
      .object({
        /** Failed deliveries (400, 413) per window and address; past it, 429 before any signature work. 0 = off. @default 60 */
        failed: z.number().int().nonnegative().default(60),
        /** Verified deliveries per window and address. 0 = off, because Svix backs off on a 429 (5 s, then 5 min, 30 min, hours), delaying the whole sync. @default 0 */
        verified: z.number().int().nonnegative().default(0),
        /** Window length in seconds. @default 60 */
        windowSeconds: z.number().int().positive().max(86400).default(60),
        /** Redis shared by every instance so they enforce one limit; unset: in memory, per instance. */
        redisUrl: z.string().min(1).optional(),
        /** Prefix of the Redis keys (several deployments on one Redis). @default "clerk-sync:rl" */
        keyPrefix: z.string().min(1).max(100).default('clerk-sync:rl'),
      })
      .strict()
      .default({}),
    /** The forwarded header that names the client: `x-forwarded-for` (`x-forwarded-for:2` with two proxies), `cf-connecting-ip`, `x-real-ip`, …; false: the socket's peer. @default false */
    trustProxy: z.union([z.literal(false), z.string().regex(/^[A-Za-z0-9-]+(:[1-9][0-9]?)?$/, 'a header name, optionally :hops')]).default(false),
    /** Source networks (CIDRs or addresses) allowed to deliver webhooks; others get 403. Unset: any. */
    allowNetworks: z.array(z.string().min(1)).optional(),
    /** Limits of the standalone server (`clerk-sync serve`). */
    http: z
      .object({
        /** Time allowed to send the request headers. @default 10000 */
        headersTimeoutMs: z.number().int().positive().default(10_000),
        /** Time allowed to send the whole request. @default 30000 */
        requestTimeoutMs: z.number().int().positive().default(30_000),
        /** Largest header section; larger gets 431. @default 16384 */
        maxHeaderBytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
        /** How long an idle keep-alive connection stays open; behind a load balancer, set it above the balancer's idle timeout. @default 5000 */
        keepAliveTimeoutMs: z.number().int().nonnegative().default(5_000),
      })
      .strict()
      .default({}),
    /** Clerk secret key (`sk_…`) for backfill, reconcile and `ensureUser`; unset: those refuse to run. */
    clerkSecretKey: z.string().min(1).optional(),
    /** Another Backend API base URL (a proxy, a fake in tests). @default "https://api.clerk.com" */
    clerkApiUrl: z.string().url().optional(),
    /** Backend API requests per second that backfill may make; Clerk allows 100 per 10 s on development instances, 1000 on production. @default 10 */
    clerkApiRequestsPerSecond: z.number().positive().default(10),
    /** Enables the admin page and API (`/admin`); at least 16 characters. Unset: no admin. */
    adminToken: z.string().min(16, 'use at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
    /** The apply worker: batches, retries, dead letters (docs/worker.md). */
    worker: z
      .object({
        /** Events per claim and per apply transaction. @default 500 (bench/apply.ts, 2 loops: 9,851 events/s at 100, 14,754 at 500) */
        batchSize: z.number().int().positive().max(5000).default(500),
        /** Claim-and-apply loops per process: two keep Postgres busy while one waits on a round trip (PGlite runs one). @default 2 */
        concurrency: z.number().int().positive().max(64).default(2),
        /** Look for due events this often when no notification arrives. @default 1000 */
        pollIntervalMs: z.number().int().min(10).max(600_000).default(1000),
        /** Attempts before an event is dead. @default 10 */
        maxAttempts: z.number().int().positive().max(1000).default(10),
        /** First retry delay; doubles per attempt, with jitter. @default 5000 */
        retryBaseMs: z.number().int().positive().default(5000),
        /** Longest retry delay. @default 3600000 */
        retryMaxMs: z.number().int().positive().default(3_600_000),
        /** How long a claimed event is reserved for its worker; after a crash it waits this long. @default 15000 */
        leaseMs: z.number().int().min(100).default(15_000),
        /** Graceful stop: how long to let the batch under way finish. @default 10000 */
        shutdownTimeoutMs: z.number().int().positive().default(10_000),
      })
      .strict()
      .default({}),
    /** The outbox dispatcher that sends side effects (docs/side-effects.md). */
    outbox: z
      .object({
        /** Sends in flight at once. @default 4 */
        concurrency: z.number().int().positive().max(256).default(4),
        /** Look for due rows this often when no notification arrives. @default 1000 */
        pollIntervalMs: z.number().int().min(10).max(600_000).default(1000),
        /** Attempts before a side effect is dead (the defaults retry for about 2.5 h, inside Resend's 24 h idempotency window). @default 12 */
        maxAttempts: z.number().int().positive().max(1000).default(12),
        /** First retry delay; doubles per attempt, with jitter. @default 2000 */
        retryBaseMs: z.number().int().positive().default(2000),
        /** Longest retry delay, also the cap on a provider's Retry-After. @default 3600000 */
        retryMaxMs: z.number().int().positive().default(3_600_000),
        /** A send still running after this is aborted and retried. @default 10000 */
        sendTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
        /** How long a claimed row is reserved for its send; after a crash it waits this long. @default sendTimeoutMs + 30000 */
        leaseMs: z.number().int().min(100).optional(),
      })
      .strict()
      .default({}),
    /** Email through Resend; on when both `apiKey` and `from` are set. */
    resend: z
      .object({
        /** `re_…` */
        apiKey: z.string().min(1).optional(),
        /** `Acme <hello@acme.com>`, on a domain verified in Resend. */
        from: z.string().min(1).optional(),
        /** Another API base URL (a fake in tests, a proxy). @default "https://api.resend.com" */
        baseUrl: z.string().url().optional(),
        replyTo: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Slack incoming webhook for sign-up messages; unset: off. */
    slackWebhookUrl: z.string().url().optional(),
    /** Which built-in side effects are written (each also needs its sender configured). */
    sideEffects: z
      .object({
        /** `user.created` → welcome email. @default true */
        welcomeEmail: z.boolean().default(true),
        /** Admin membership → admin welcome email. @default true */
        adminWelcomeEmail: z.boolean().default(true),
        /** `user.created` → Slack message. @default true */
        slackSignup: z.boolean().default(true),
        /** `email.created` with `delivered_by_clerk: false` → delivered through Resend. @default false */
        emailRelay: z.boolean().default(false),
      })
      .strict()
      .default({}),
    /** Your templates for the built-in messages (any left out keeps its default). */
    templates: z
      .object({
        welcomeEmail: z.custom<Templates['welcomeEmail']>((v) => typeof v === 'function').optional(),
        adminWelcomeEmail: z.custom<Templates['adminWelcomeEmail']>((v) => typeof v === 'function').optional(),
        slackSignup: z.custom<Templates['slackSignup']>((v) => typeof v === 'function').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ClerkSyncOptions = Input<typeof optionsSchema>;
export type ResolvedConfig = Readonly<Output<typeof optionsSchema>>;

export function resolveConfig(options: ClerkSyncOptions = {}): ResolvedConfig {
  const parsed = safeParse(optionsSchema, options);
  if (parsed.issues.length > 0) {
    const issues = parsed.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
    throw new ClerkSyncError('invalid_config', `Invalid clerk-sync options: ${issues}`);
  }
  return Object.freeze(parsed.data);
}

export { ENV_VARS, optionsFromEnv } from './env.js';
