/**
 * Metrics observe every later stage (deliveries, applies, backfill), so they are set up right
 * after the database. The registry is created when first asked for (sync.metrics, handleMetrics;
 * the standalone server at start), so an app that never serves /metrics never loads prom-client;
 * until then the observers count nothing.
 */
import type { Db } from '../core/db.js';
import { createMetrics, createQueueStatsReader, type ClerkSyncMetrics } from '../metrics/index.js';

export interface LazyMetrics {
  /** Creates the registry on first call. */
  get(): ClerkSyncMetrics;
  /** The registry if created: what observers count into. */
  current(): ClerkSyncMetrics | undefined;
}

export function createLazyMetrics(ready: () => Promise<Db>, schema: string): LazyMetrics {
  let instance: ClerkSyncMetrics | undefined;
  return {
    get: () => (instance ??= createMetrics({ queueStats: createQueueStatsReader(ready, schema) })),
    current: () => instance,
  };
}
