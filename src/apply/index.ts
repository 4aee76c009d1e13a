/**
 * The apply stage: claim → apply (projections + side-effect rows) → mark, with retries, dead
 * letters, replay and drain. Statements are one per file (claim, lock, complete, fail, release,
 * replay); the loop is worker.ts. Imports core, db (identifiers), inbox (channel), projections
 * and outbox (enqueue, wakeup).
 */
export { applyBatch, applyInTransaction, recordFailure, type ApplyDeps, type BatchResult, type EventOutcome, type OutcomeCounts, type RetrySettings } from './apply-batch.js';
export { claimEvents, type ClaimArgs, type ClaimedEvent } from './claim.js';
export { drainEvents, type DrainResult } from './drain.js';
export { applyInline } from './inline.js';
export { prune, countPrunable, PruneSchedule, PRUNABLE_EVENT_STATUSES, type PruneOptions, type PruneProgress, type PruneResult, type PruneScheduleOptions } from './prune.js';
export { replayEvents, type ReplaySelector, type ReplayableStatus } from './replay.js';
export { anySideEffects, enqueueBatchSideEffects, enqueueSideEffects, NO_SIDE_EFFECTS, type SideEffectRules } from './side-effects.js';
export { DEFAULT_WORKER_SETTINGS, Worker, type WorkerOptions, type WorkerSettings } from './worker.js';
export { Runner, type DrainSummary, type RunnerOptions, type RunningWorker } from './runner.js';
