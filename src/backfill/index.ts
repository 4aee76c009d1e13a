/**
 * Backfill from Clerk's Backend API into the inbox (source 'backfill'), reconcile, and
 * read-through for the sign-up race. Imports core, inbox and db identifiers only; applying is
 * passed in by the composition root.
 */
export { createBackfillService, type BackfillObserver, type BackfillService, type BackfillServiceOptions, type RunOptions, type RunReconcileOptions } from './service.js';
export { runBackfill, type BackfillCounts, type BackfillOptions, type BackfillProgress, type BackfillResult, type StopReason } from './run.js';
export { BackfillState, readBackfillStatus, type BackfillStatus, type ListingState } from './state.js';
export { runReconcile, ReconcileRefusedError, type ReconcileOptions, type ReconcileResult } from './reconcile.js';
export { applyPendingBackfill, type ApplyCounts, type ApplyPendingOptions } from './apply-pending.js';
export { ensureEntity, type EnsureDeps, type EnsuredRow } from './ensure.js';
export { createClerkApi, ClerkApiError, type ClerkApi, type ClerkApiOptions, type ListingRequest, type Page } from './clerk-api.js';
export { RequestBudget, BudgetExhaustedError, AbortedError } from './budget.js';
export { LISTINGS, RESOURCES, RESOURCE_NAMES, listingsOf, parseResources, type ListingSpec, type ResourceName } from './resources.js';
export { syntheticEvent } from './synthetic.js';
