/**
 * Prometheus metrics of one ClerkSync instance, in its own prom-client Registry (two instances
 * in one process, or an app's own registry, never collide). They count from the moment the
 * instance's `metrics` (or `handleMetrics`) is first used: at start in the standalone server. Counters and histograms are fed by
 * hooks (deliveries, apply, backfill); queue gauges are read from the database at scrape time,
 * once per scrape however many gauges ask. docs/operations.md lists every metric.
 */
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import type { QueueStats } from './queue-stats.js';

export interface DeliveryObservation {
  status: number;
  code?: string;
  type?: string;
  duplicate?: boolean;
}

export interface ClerkSyncMetrics {
  readonly registry: Registry;
  /** Feed of `sync.onDelivery`. */
  observeDelivery(outcome: DeliveryObservation, elapsedMs: number): void;
  /** For the worker: one call per event applied (or that failed to apply). */
  observeApply(type: string, outcome: 'applied' | 'stale' | 'ignored' | 'failed' | 'dead', elapsedMs: number): void;
  /** For backfill: entities listed and newly stored, per resource, and progress of the listing. */
  observeBackfill(resource: string, listed: number, stored: number): void;
  setBackfillProgress(resource: string, done: number, total: number | undefined): void;
  observeBackfillRequest(operation: string, status: number): void;
  /** Adds Node's process metrics (the CLI does; an app usually has its own). */
  collectProcessMetrics(): void;
  /** The text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** Reads the queue state; called at most once per scrape. */
  queueStats?: () => Promise<QueueStats>;
}

// Verification failures are the 400s of the webhook path: the error code is the reason.
const VERIFICATION_CODES = new Set(['missing_headers', 'invalid_timestamp', 'timestamp_too_old', 'timestamp_too_new', 'invalid_signature', 'invalid_id', 'invalid_json', 'invalid_event', 'payload_too_large', 'secret_not_configured']);

export function createMetrics(options: MetricsOptions = {}): ClerkSyncMetrics {
  // Loaded by the first instance that is asked for metrics, not by importing clerk-sync: a
  // Next.js route that never serves /metrics never pays for prom-client. (It is CommonJS, so
  // require loads it synchronously.)
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
  const registry = new Registry();
  const registers = [registry];

  const deliveries = new Counter({ name: 'clerk_sync_webhook_deliveries_total', help: 'Webhook deliveries answered, by event type (unknown before verification) and HTTP status', labelNames: ['type', 'status'] as const, registers });
  const duplicates = new Counter({ name: 'clerk_sync_webhook_duplicates_total', help: 'Deliveries of an svix id already stored (answered 200, nothing changed)', registers });
  const verification = new Counter({ name: 'clerk_sync_webhook_verification_failures_total', help: 'Deliveries refused before storage, by reason (the error code)', labelNames: ['reason'] as const, registers });
  const intake = new Histogram({
    name: 'clerk_sync_webhook_intake_duration_seconds',
    help: 'Time from request to answer on the webhook path (verification and the inbox commit)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const applyDuration = new Histogram({
    name: 'clerk_sync_apply_duration_seconds',
    help: 'Time to apply one event to the projections, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const applied = new Counter({ name: 'clerk_sync_events_applied_total', help: 'Events handled by the apply stage, by type and outcome', labelNames: ['type', 'outcome'] as const, registers });
  const backfillEntities = new Counter({ name: 'clerk_sync_backfill_entities_total', help: 'Entities found by backfill, by resource; result "stored" counts those that were new to the inbox', labelNames: ['resource', 'result'] as const, registers });
  const backfillDone = new Gauge({ name: 'clerk_sync_backfill_done', help: 'Entities of the current backfill listing done so far, by resource', labelNames: ['resource'] as const, registers });
  const backfillTotal = new Gauge({ name: 'clerk_sync_backfill_total', help: 'Entities the Backend API reports for the listing, by resource', labelNames: ['resource'] as const, registers });
  const backfillRequests = new Counter({ name: 'clerk_sync_backfill_api_requests_total', help: 'Backend API requests made by backfill, reconcile and read-through, by operation and status (0: network failure)', labelNames: ['operation', 'status'] as const, registers });

  let cached: { at: number; value: Promise<QueueStats | null> } | undefined;
  const stats = (): Promise<QueueStats | null> => {
    const now = Date.now();
    // One query serves every gauge of a scrape (prom-client calls each gauge's collect in turn).
    if (!cached || now - cached.at > 250) cached = { at: now, value: options.queueStats ? options.queueStats().catch(() => null) : Promise.resolve(null) };
    return cached.value;
  };
  new Gauge({
    name: 'clerk_sync_database_up',
    help: '1 when the last scrape could read the queue state from the database',
    registers,
    async collect() {
      if (options.queueStats) this.set((await stats()) ? 1 : 0);
    },
  });
  const gauge = (name: string, help: string, pick: (s: QueueStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const s = await stats();
        if (s) this.set(pick(s));
      },
    });
  gauge('clerk_sync_inbox_pending', 'Inbox events waiting for their first apply', (s) => s.inbox.pending);
  gauge('clerk_sync_inbox_retrying', 'Inbox events that failed and wait for a retry', (s) => s.inbox.retrying);
  gauge('clerk_sync_inbox_oldest_pending_age_seconds', 'Age of the oldest pending or retrying inbox event (0 when none)', (s) => s.inbox.oldestPendingAgeSeconds);
  gauge('clerk_sync_inbox_dead', 'Dead letters: inbox events that kept failing and wait for a replay (re-counted at most every 30 s)', (s) => s.inbox.dead);
  gauge('clerk_sync_outbox_pending', 'Side effects waiting to be sent', (s) => s.outbox.pending);
  gauge('clerk_sync_outbox_retrying', 'Side effects that failed and wait for a retry', (s) => s.outbox.retrying);
  gauge('clerk_sync_outbox_dead', 'Side effects that kept failing (re-counted at most every 30 s)', (s) => s.outbox.dead);
  gauge('clerk_sync_outbox_oldest_pending_age_seconds', 'Age of the oldest pending or retrying side effect (0 when none)', (s) => s.outbox.oldestPendingAgeSeconds);

  let processMetrics = false;
  return {
    registry,
    contentType: registry.contentType,
    observeDelivery(outcome, elapsedMs) {
      deliveries.inc({ type: outcome.type ?? 'unknown', status: String(outcome.status) });
      if (outcome.duplicate) duplicates.inc();
      if (outcome.code && VERIFICATION_CODES.has(outcome.code)) verification.inc({ reason: outcome.code });
      intake.observe(elapsedMs / 1000);
    },
    observeApply(type, outcome, elapsedMs) {
      applied.inc({ type, outcome });
      applyDuration.observe({ outcome }, elapsedMs / 1000);
    },
    observeBackfill(resource, listed, stored) {
      if (listed > 0) backfillEntities.inc({ resource, result: 'listed' }, listed);
      if (stored > 0) backfillEntities.inc({ resource, result: 'stored' }, stored);
    },
    setBackfillProgress(resource, done, total) {
      backfillDone.set({ resource }, done);
      if (total !== undefined) backfillTotal.set({ resource }, total);
    },
    observeBackfillRequest(operation, status) {
      backfillRequests.inc({ operation, status: String(status) });
    },
    collectProcessMetrics() {
      if (processMetrics) return;
      processMetrics = true;
      collectDefaultMetrics({ register: registry, prefix: 'clerk_sync_' });
    },
    render() {
      cached = undefined;
      return registry.metrics();
    },
  };
}
