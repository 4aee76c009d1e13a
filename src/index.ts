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
  applyEvent, applyEvents, markEvent, Hooks, PayloadError, isKnownEventType, EVENT_TYPES, ProjectionRegistry, PROJECTIONS, defaultRegistry,
  type StoredEvent, type ApplyStatus, type ApplyContext, type Hook, type HookContext,
} from './projections/index.js';
export {
  can, accessFor, forOrganization, withClerkUser, assertRowLevelSecurity, organizationPolicies, organizationPolicySql,
  type AccessOptions, type OrganizationAccess, type OrganizationScope, type OrganizationPolicyOptions,
} from './access/index.js';
export {
  Worker, Runner, drainEvents, replayEvents, applyBatch, applyInline, claimEvents, enqueueSideEffects, enqueueBatchSideEffects, NO_SIDE_EFFECTS, DEFAULT_WORKER_SETTINGS,
  type WorkerOptions, type WorkerSettings, type RunningWorker, type DrainSummary, type DrainResult, type ReplaySelector, type ReplayableStatus,
  type ApplyDeps, type EventOutcome, type OutcomeCounts, type RetrySettings, type SideEffectRules,
  type PruneOptions, type PruneProgress, type PruneResult,
} from './apply/index.js';
export { enqueueOutbox, enqueueOutboxMany, OUTBOX_CHANNEL, type OutboxItem } from './outbox/enqueue.js';
export { OutboxRegistry, type OutboxHandler } from './outbox/registry.js';
export { Dispatcher, idempotencyKeyFor, DEFAULT_DISPATCHER_SETTINGS, type DispatcherOptions, type DispatcherSettings, type DispatchCounts, type DispatchOutcome } from './outbox/dispatcher.js';
export { replayOutbox, type OutboxReplaySelector } from './outbox/replay.js';
export {
  PermanentSendError, RetryLaterError, BUILTIN_KINDS, parseRetryAfter,
  type Sender, type SendResult, type SendOptions, type OutboxMessage, type Templates, type EmailContent, type SlackMessage,
  type WelcomeEmailData, type AdminWelcomeEmailData, type RelayEmailData, type SlackSignupData,
} from './core/sender.js';
export { createResendSenders, createSlackSender, defaultTemplates, configuredSenders, escapeHtml, escapeSlack, type ResendSenderOptions, type SlackSenderOptions } from './senders/index.js';
export {
  createClerkApi, ClerkApiError, ReconcileRefusedError, BudgetExhaustedError, LISTINGS, RESOURCE_NAMES,
  type BackfillResult, type BackfillProgress, type BackfillStatus, type ReconcileResult, type ResourceName, type EnsuredRow, type ApplyCounts,
} from './backfill/index.js';
export { createAdminHandler, maskPersonal, type AdminOptions } from './admin/index.js';
export { createMetrics, queueStats, type ClerkSyncMetrics, type QueueStats } from './metrics/index.js';
