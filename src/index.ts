/**
 * clerk-sync: mirror Clerk into your own PostgreSQL through verified, durable,
 * order-independent webhooks.
 */
export { createClerkSync, type ClerkSync, type Readiness } from './service/clerk-sync.js';
export { optionsFromEnv, resolveConfig, type ClerkSyncOptions, type ResolvedConfig } from './core/config.js';
export { ClerkSyncError, ERROR_CODES, type ErrorCode } from './core/errors.js';
export type { Db, Queryable, QueryResult } from './core/db.js';
export { createPgDb, type PgDbOptions } from './db/pg.js';
export { createPGliteDb, wrapPGlite } from './db/pglite.js';
export { migrate, pendingMigrations, type MigrateResult } from './db/migrate.js';
export { parseSigningSecrets, verifyWebhook, type SigningKey, type VerifyResult } from './verify/index.js';
export {
  applyEvent, markEvent, Hooks, PayloadError, isKnownEventType, EVENT_TYPES, ProjectionRegistry, PROJECTIONS, defaultRegistry,
  type StoredEvent, type ApplyStatus, type ApplyContext, type Hook, type HookContext,
} from './projections/index.js';
export { can, accessFor, forOrganization, type AccessOptions, type OrganizationAccess, type OrganizationScope } from './access/index.js';
