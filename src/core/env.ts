/**
 * The environment variables clerk-sync understands, as one table: each row names the variable,
 * the option(s) it sets, how its text is parsed, its default and what it means, and whether its
 * value is a secret. `ENV_VARS`, `optionsFromEnv` and the table in docs/reference/configuration.md
 * (`node --import tsx scripts/env-docs.ts`) are all derived from it, so a variable is added in
 * one place.
 */
import type { ClerkSyncOptions } from './config.js';
import { ClerkSyncError } from './errors.js';

type Options = ClerkSyncOptions;
type NestedPath<K extends keyof Options> = NonNullable<Options[K]> extends Record<string, unknown> ? `${K & string}.${keyof NonNullable<Options[K]> & string}` : never;
/** An option key, or `group.key` inside an option group (`rateLimit.failed`). */
export type OptionPath = (keyof Options & string) | { [K in keyof Options]-?: NestedPath<K> }[keyof Options];

export type Env = Readonly<Record<string, string | undefined>>;

const TRUE = ['true', '1', 'on', 'yes'];
const FALSE = ['false', '0', 'off', 'no'];

/** Turns a variable's text into an option value; undefined leaves the option unset (its default). */
const PARSERS = {
  /** Any non-empty text, as is (the options' schema validates it). */
  text: (raw: string | undefined) => raw || undefined,
  int(raw: string | undefined, name: string) {
    if (raw === undefined || raw === '') return undefined;
    if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got "${raw}"`);
    return Number(raw);
  },
  boolean(raw: string | undefined, name: string) {
    const value = raw?.trim().toLowerCase();
    if (!value) return undefined;
    if (![...TRUE, ...FALSE].includes(value)) throw new Error(`${name} must be true or false, got "${raw}"`);
    return TRUE.includes(value);
  },
  /** Separated by spaces or commas. */
  list(raw: string | undefined) {
    const items = raw?.split(/[\s,]+/).filter(Boolean);
    return items && items.length > 0 ? items : undefined;
  },
  /** A header name (case-insensitive), or off. */
  trustProxy(raw: string | undefined) {
    const value = raw?.trim().toLowerCase();
    if (!value) return undefined;
    return value === 'false' || value === '0' || value === 'off' ? false : value;
  },
} satisfies Record<string, (raw: string | undefined, name: string) => unknown>;

export interface EnvVar {
  name: string;
  /** The option(s) it sets; none for variables only the CLI reads. */
  option?: OptionPath | readonly OptionPath[];
  parse: keyof typeof PARSERS;
  /** The default, a literal value (shown as code). */
  default?: string;
  /** The default in words, when it is no literal value. */
  defaultText?: string;
  /** Its value is a credential: never print or log it. */
  secret?: boolean;
  /** Read only when this other variable is unset or empty. */
  aliasOf?: string;
  /** One line of Markdown for the reference. */
  description: string;
}

export const ENV_TABLE = [
  {
    name: 'CLERK_WEBHOOK_SIGNING_SECRET',
    option: 'secret',
    parse: 'text',
    secret: true,
    description: 'one or more `whsec_` secrets separated by spaces or commas (rotation: list the new and the old one). Unset: dev mode generates one (`serve`), production refuses to start, library mode answers 500',
  },
  {
    name: 'CLERK_WEBHOOK_SECRET',
    option: 'secret',
    parse: 'text',
    secret: true,
    aliasOf: 'CLERK_WEBHOOK_SIGNING_SECRET',
    description: 'alias of the above, used when it is unset',
  },
  {
    name: 'DATABASE_URL',
    option: 'databaseUrl',
    parse: 'text',
    secret: true,
    description: 'Postgres connection string (Neon included). Unset: embedded PGlite in the data folder',
  },
  {
    name: 'CLERK_SYNC_DATA_DIR',
    option: 'dataDir',
    parse: 'text',
    default: './.clerk-sync',
    description: 'PGlite\'s folder, and dev mode\'s `webhook-secret`',
  },
  {
    name: 'CLERK_SYNC_SCHEMA',
    option: 'schema',
    parse: 'text',
    default: 'clerk',
    description: 'Postgres schema of every table',
  },
  {
    name: 'CLERK_SYNC_MODE',
    option: 'mode',
    parse: 'text',
    default: 'worker',
    description: '`worker`: apply in the background; `inline`: apply in the request after the inbox commit (serverless)',
  },
  {
    name: 'CLERK_SYNC_APPLY_AT_INTAKE',
    option: 'intake.apply',
    parse: 'boolean',
    default: 'true',
    description: 'where this process applies events anyway (a worker runs in it, or inline mode), apply new deliveries in the transaction that stores them; your hooks\' events and any batch that fails still go to the worker ([worker](../worker.md#apply-at-intake))',
  },
  {
    name: 'CLERK_SYNC_METADATA_GRANTS',
    option: 'metadataGrants',
    parse: 'boolean',
    default: 'false',
    description: 'let `can()` also honour `role`/`permissions`/`organizationId` in a user\'s `public_metadata`, for that organization, when the app passes `{ metadataGrants: sync.config.metadataGrants }` ([projections](../projections.md#abac-views-can-and-the-typescript-api)); row-level security ignores them',
  },
  {
    name: 'CLERK_SYNC_DELETE_MODE',
    option: 'deleteMode',
    parse: 'text',
    default: 'soft',
    description: '`soft` keeps a deleted user\'s data; `scrub` erases personal fields',
  },
  {
    name: 'CLERK_SYNC_MAX_BODY_BYTES',
    option: 'maxBodyBytes',
    parse: 'int',
    default: '1048576',
    description: 'larger bodies get 413',
  },
  {
    name: 'CLERK_SYNC_LOG_LEVEL',
    option: 'logLevel',
    parse: 'text',
    default: 'info',
    description: 'pino level (`silent` to mute)',
  },
  {
    name: 'CLERK_SYNC_POOL_SIZE',
    option: 'poolSize',
    parse: 'int',
    default: '10',
    description: '`pg` pool size',
  },
  {
    name: 'CLERK_SYNC_PREPARED_STATEMENTS',
    option: 'preparedStatements',
    parse: 'boolean',
    default: 'true',
    description: 'name parameterised statements so each connection plans them once; set `false` behind a transaction pooler without prepared-statement support (PgBouncer < 1.21)',
  },
  {
    name: 'CLERK_SYNC_RATE_LIMIT_FAILED',
    option: 'rateLimit.failed',
    parse: 'int',
    default: '60',
    description: 'failed deliveries per window per client address before 429 (0 = off)',
  },
  {
    name: 'CLERK_SYNC_RATE_LIMIT_VERIFIED',
    option: 'rateLimit.verified',
    parse: 'int',
    default: '0',
    description: 'verified deliveries per window per address (0 = off: Svix retries a 429 only after minutes)',
  },
  {
    name: 'CLERK_SYNC_RATE_LIMIT_WINDOW_SECONDS',
    option: 'rateLimit.windowSeconds',
    parse: 'int',
    default: '60',
    description: 'rate-limit window',
  },
  {
    name: 'CLERK_SYNC_RATE_LIMIT_PREFIX',
    option: 'rateLimit.keyPrefix',
    parse: 'text',
    default: 'clerk-sync:rl',
    description: 'Redis key prefix',
  },
  {
    name: 'REDIS_URL',
    option: 'rateLimit.redisUrl',
    parse: 'text',
    secret: true,
    description: 'share rate limits across instances; unset or unreachable: in memory. Needs the optional package `ioredis` (`npm install ioredis`)',
  },
  {
    name: 'CLERK_SYNC_TRUST_PROXY',
    option: 'trustProxy',
    parse: 'trustProxy',
    defaultText: 'off',
    description: 'the forwarded header naming the client (`x-forwarded-for`, `x-forwarded-for:2`, `cf-connecting-ip`, `x-real-ip`)',
  },
  {
    name: 'CLERK_SYNC_ALLOW_NETWORKS',
    option: 'allowNetworks',
    parse: 'list',
    defaultText: 'any',
    description: 'comma-separated CIDRs allowed to deliver; others get 403',
  },
  {
    name: 'CLERK_SYNC_HEADERS_TIMEOUT_MS',
    option: 'http.headersTimeoutMs',
    parse: 'int',
    default: '10000',
    description: 'standalone server: time to send the headers',
  },
  {
    name: 'CLERK_SYNC_REQUEST_TIMEOUT_MS',
    option: 'http.requestTimeoutMs',
    parse: 'int',
    default: '30000',
    description: 'standalone server: time to send the whole request',
  },
  {
    name: 'CLERK_SYNC_RETENTION_DAYS',
    option: 'retentionDays',
    parse: 'int',
    default: '30',
    description: 'applied, stale and ignored inbox events older than this many days are deleted, and side effects sent that long ago keep only their `(kind, key)` row; dead letters, pending and failed events and unsent side effects are kept. `0` (option: `0` or `false`) keeps everything forever. A whole number from 0 to 36500, else `invalid_config` ([operations](../operations.md#retention), [decision 0005](../decisions/0005-retention.md))',
  },
  {
    name: 'CLERK_SYNC_DELIVERY_TIMEOUT_MS',
    option: 'deliveryTimeoutMs',
    parse: 'int',
    default: '30000',
    description: 'the longest one delivery waits for the database, from its arrival (body, group-commit queue, transaction, rollback); past it, 503 `database_unavailable`, never a 2xx for a commit not known ([hardening](../hardening.md#crashes-and-outages))',
  },
  {
    name: 'CLERK_SYNC_READY_TIMEOUT_MS',
    option: 'readyTimeoutMs',
    parse: 'int',
    default: '3000',
    description: 'the longest `/readyz` (and `readiness()`) waits for the database; past it, 503 `database: "unreachable"`',
  },
  {
    name: 'CLERK_SYNC_MAX_HEADER_BYTES',
    option: 'http.maxHeaderBytes',
    parse: 'int',
    default: '16384',
    description: 'standalone server: larger header sections get 431',
  },
  {
    name: 'CLERK_SYNC_KEEP_ALIVE_TIMEOUT_MS',
    option: 'http.keepAliveTimeoutMs',
    parse: 'int',
    default: '5000',
    description: 'standalone server: idle keep-alive connections close after this; behind a load balancer, set it above the balancer\'s idle timeout (see [scaling](../scaling.md))',
  },
  {
    name: 'CLERK_SECRET_KEY',
    option: 'clerkSecretKey',
    parse: 'text',
    secret: true,
    description: 'Clerk secret key (`sk_…`) for `backfill`, `reconcile` and `ensureUser` (see [backfill](../backfill.md))',
  },
  {
    name: 'CLERK_API_URL',
    option: 'clerkApiUrl',
    parse: 'text',
    default: 'https://api.clerk.com',
    description: 'another Backend API base URL (a proxy, a fake in tests)',
  },
  {
    name: 'CLERK_SYNC_API_RATE',
    option: 'clerkApiRequestsPerSecond',
    parse: 'int',
    default: '10',
    description: 'Backend API requests per second for backfill (Clerk: 100 per 10 s on development instances, 1000 on production)',
  },
  {
    name: 'CLERK_SYNC_ADMIN_TOKEN',
    option: 'adminToken',
    parse: 'text',
    secret: true,
    description: 'enables `/admin` (see [admin](../admin.md)); at least 16 characters',
  },
  {
    name: 'CLERK_SYNC_WORKER_CONCURRENCY',
    option: 'worker.concurrency',
    parse: 'int',
    default: '2',
    description: 'claim-and-apply loops per worker process (see [worker](../worker.md))',
  },
  {
    name: 'CLERK_SYNC_WORKER_BATCH_SIZE',
    option: 'worker.batchSize',
    parse: 'int',
    default: '500',
    description: 'events per claim and per apply transaction',
  },
  {
    name: 'CLERK_SYNC_MAX_ATTEMPTS',
    option: 'worker.maxAttempts',
    parse: 'int',
    default: '10',
    description: 'attempts before an event is `dead`',
  },
  {
    name: 'CLERK_SYNC_POLL_INTERVAL_MS',
    option: ['worker.pollIntervalMs', 'outbox.pollIntervalMs'],
    parse: 'int',
    default: '1000',
    description: 'how often the worker and the dispatcher look for work when no NOTIFY arrives (poolers drop LISTEN)',
  },
  {
    name: 'RESEND_API_KEY',
    option: 'resend.apiKey',
    parse: 'text',
    secret: true,
    description: 'Resend API key; with `CLERK_SYNC_EMAIL_FROM`, turns email on (see [side effects](../side-effects.md)). Needs the optional package `resend` (`npm install resend`)',
  },
  {
    name: 'CLERK_SYNC_EMAIL_FROM',
    option: 'resend.from',
    parse: 'text',
    description: 'sender of clerk-sync\'s emails, e.g. `Acme <hello@acme.com>` (a domain verified in Resend)',
  },
  {
    name: 'RESEND_BASE_URL',
    option: 'resend.baseUrl',
    parse: 'text',
    default: 'https://api.resend.com',
    description: 'another Resend API base URL (a fake in tests, a proxy)',
  },
  {
    name: 'SLACK_WEBHOOK_URL',
    option: 'slackWebhookUrl',
    parse: 'text',
    secret: true,
    description: 'Slack incoming webhook for sign-up messages; unset: off',
  },
  {
    name: 'CLERK_SYNC_EMAIL_RELAY',
    option: 'sideEffects.emailRelay',
    parse: 'boolean',
    default: 'false',
    description: 'deliver Clerk\'s own emails (`email.created` with `delivered_by_clerk: false`) through Resend',
  },
  {
    name: 'PORT',
    parse: 'text',
    default: '3000',
    description: 'standalone server port (`serve --port`)',
  },
  {
    name: 'HOST',
    parse: 'text',
    default: '0.0.0.0',
    description: 'standalone server address (`serve --host`)',
  },
  {
    name: 'NODE_ENV',
    parse: 'text',
    description: '`production` makes `serve` refuse to start without a secret',
  },
] as const satisfies readonly EnvVar[];

/** Environment variables clerk-sync understands (docs/reference/configuration.md lists each). */
export const ENV_VARS: ReadonlyArray<(typeof ENV_TABLE)[number]['name']> = ENV_TABLE.map((v) => v.name);

/** The option paths a variable sets, none for the CLI's own. */
export function optionPaths(variable: EnvVar): readonly OptionPath[] {
  return variable.option === undefined ? [] : typeof variable.option === 'string' ? [variable.option] : variable.option;
}

function assign(options: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let target = options;
  for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
  target[keys.at(-1)!] = value;
}

/** Options from environment variables; pass `process.env`. Unset variables leave defaults. */
export function optionsFromEnv(env: Env): ClerkSyncOptions {
  const options: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const variable of ENV_TABLE as readonly EnvVar[]) {
    const paths = optionPaths(variable);
    if (paths.length === 0) continue;
    if (variable.aliasOf && env[variable.aliasOf]) continue;
    let value: unknown;
    try {
      value = PARSERS[variable.parse](env[variable.name], variable.name);
    } catch (error) {
      // Every bad variable in one message, so a deployment is fixed in one round.
      problems.push((error as Error).message);
      continue;
    }
    if (value === undefined) continue;
    for (const path of paths) assign(options, path, value);
  }
  if (problems.length > 0) throw new ClerkSyncError('invalid_config', problems.join('; '));
  return options as ClerkSyncOptions;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The Markdown table of docs/reference/configuration.md. */
export function envReferenceTable(): string {
  const rows = (ENV_TABLE as readonly EnvVar[]).map((v) => {
    const options = optionPaths(v);
    const option = options.length > 0 ? options.map((o) => `\`${o}\``).join(', ') : '—';
    const fallback = v.default !== undefined ? `\`${v.default}\`` : (v.defaultText ?? '—');
    return `| \`${v.name}\` | ${option} | ${fallback} | ${v.secret ? 'yes' : ''} | ${cell(v.description)} |`;
  });
  return ['| variable | option | default | secret | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
